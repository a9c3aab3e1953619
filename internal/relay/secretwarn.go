package relay

import (
	"strings"

	"github.com/hookrelay/hookrelay/internal/provider"
)

// stripeKeyPrefixes start Stripe's API keys (secret, restricted and
// publishable), which people paste where the webhook signing secret
// (whsec_…) belongs. Stripe never signs webhooks with them.
var stripeKeyPrefixes = []string{"sk_", "rk_", "pk_"}

// SecretWarning says what is wrong with a source secret that is accepted
// but cannot be what the provider signs with: a Stripe API key instead of
// the endpoint's signing secret. "" when nothing looks wrong.
func SecretWarning(kind, secretOrHint string) string {
	if kind != provider.Stripe {
		return ""
	}
	for _, p := range stripeKeyPrefixes {
		if strings.HasPrefix(secretOrHint, p) {
			return "This secret looks like a Stripe API key (" + p + "…), not a webhook signing secret (whsec_…): " +
				"Stripe signs webhooks with the signing secret shown on its webhook endpoint page (Developers → Webhooks), " +
				"so every event would be rejected. Rotate in the signing secret."
		}
	}
	return ""
}
