package signing

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is what gets signed.
type Message struct {
	ID        string    // stable webhook id (the delivery's event id, same across retries)
	Timestamp time.Time // attempt time
	Body      []byte    // exact bytes forwarded
}

// Sizes of the pieces appended per signature, used to size one buffer up front.
const (
	maxInt64Len   = len("-9223372036854775808")
	standardEntry = len(" v1a,") + 88 // worst case per secret: base64 of a 64-byte ed25519 signature
	stripeEntry   = len(",v1=") + 2*sha256.Size
	githubLen     = len("sha256=") + 2*sha256.Size
	keyBufLen     = 64 // stack room for a decoded or copied key; longer keys go to the heap
)

// scratch is per-call working memory, pooled because Sign runs on every
// delivery attempt: buffers passed through hash.Hash methods escape, so
// without the pool each call would allocate them.
type scratch struct {
	key [keyBufLen]byte
	sum [sha256.Size]byte
	pre [maxInt64Len + 1]byte // Stripe's "ts." prefix
	buf []byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch(size int) *scratch {
	sc := scratchPool.Get().(*scratch)
	if cap(sc.buf) < size {
		sc.buf = make([]byte, 0, size)
	}
	return sc
}

// putScratch wipes key material before the scratch is reused. Buffers grown
// past 64 KiB (huge ids, many secrets) are dropped rather than kept.
func putScratch(sc *scratch) {
	clear(sc.key[:])
	if cap(sc.buf) > 64<<10 {
		sc.buf = nil
	}
	sc.buf = sc.buf[:0]
	scratchPool.Put(sc)
}

// Sign sets the scheme's headers on h for msg, signing once per secret
// (several during rotation), newest secret first.
//
//   - StandardWebhooks: webhook-id, webhook-timestamp (unix seconds) and
//     webhook-signature "v1,<b64> v1,<b64>", each an HMAC-SHA256 of
//     "id.ts.body" keyed by the base64-decoded part after "whsec_"; a "whsk_"
//     secret (ed25519 private key) yields a "v1a,<b64 ed25519 sig>" entry.
//   - Stripe: Stripe-Signature "t=<ts>,v1=<hex>,v1=<hex>", HMAC-SHA256 of
//     "ts.body" keyed by the whole secret string, as stripe-go verifies it.
//   - GitHub: X-Hub-Signature-256 "sha256=<hex>" of the body, keyed by the
//     whole secret string; GitHub's format carries one signature, so only the
//     first (newest) secret is used.
//   - None: sets nothing.
//
// Existing values of the headers it sets are replaced. Errors wrap
// ErrUnknownScheme, ErrNoSecret, ErrBadSecret or ErrBadMessage and never
// contain a secret.
func Sign(scheme Scheme, secrets []string, msg Message, h http.Header) error {
	switch scheme {
	case StandardWebhooks:
		return signStandard(secrets, msg, h)
	case Stripe:
		return signStripe(secrets, msg, h)
	case GitHub:
		return signGitHub(secrets, msg, h)
	case None:
		return nil
	default:
		return fmt.Errorf("signing: sign: %w %q", ErrUnknownScheme, string(scheme))
	}
}

// signStandard builds "id.ts." and the signature list in one buffer, so a
// one-secret call costs that buffer, one string, one []string and the HMAC.
func signStandard(secrets []string, msg Message, h http.Header) error {
	if err := checkID(msg.ID); err != nil {
		return err
	}
	if err := checkTime(msg.Timestamp); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return fmt.Errorf("signing: standard webhooks: %w", ErrNoSecret)
	}
	sc := getScratch(len(msg.ID) + 2 + maxInt64Len + len(secrets)*standardEntry)
	defer putScratch(sc)
	buf := append(sc.buf, msg.ID...)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, msg.Timestamp.Unix(), 10)
	buf = append(buf, '.')
	prefix := len(buf)
	var signed []byte // "id.ts.body", built only for ed25519 secrets
	for i, secret := range secrets {
		if i > 0 {
			buf = append(buf, ' ')
		}
		if strings.HasPrefix(secret, PrivateKeyPrefix) {
			priv, err := privateKey(secret)
			if err != nil {
				return fmt.Errorf("signing: standard webhooks secret %d: %w", i, err)
			}
			if signed == nil {
				signed = append(append(make([]byte, 0, prefix+len(msg.Body)), buf[:prefix]...), msg.Body...)
			}
			buf = append(buf, "v1a,"...)
			buf = base64.StdEncoding.AppendEncode(buf, ed25519.Sign(priv, signed))
			continue
		}
		key, err := hmacKey(sc.key[:0], secret)
		if err != nil {
			return fmt.Errorf("signing: standard webhooks secret %d: %w", i, err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(buf[:prefix])
		mac.Write(msg.Body)
		buf = append(buf, "v1,"...)
		buf = base64.StdEncoding.AppendEncode(buf, mac.Sum(sc.sum[:0]))
	}
	sc.buf = buf // keep a grown buffer for the next call
	// One string holds "ts.sigs"; both header values are slices of it.
	tsStart := len(msg.ID) + 1
	s := string(buf[tsStart:])
	tsLen := prefix - tsStart - 1
	vals := make([]string, 3)
	vals[0], vals[1], vals[2] = msg.ID, s[:tsLen], s[tsLen+1:]
	h[HeaderWebhookID] = vals[0:1:1]
	h[HeaderWebhookTimestamp] = vals[1:2:2]
	h[HeaderWebhookSignature] = vals[2:3:3]
	return nil
}

// signStripe MACs "ts." and the body with each secret and builds
// "t=<ts>,v1=<hex>,v1=<hex>" in one buffer.
func signStripe(secrets []string, msg Message, h http.Header) error {
	if err := checkTime(msg.Timestamp); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return fmt.Errorf("signing: stripe: %w", ErrNoSecret)
	}
	sc := getScratch(2 + maxInt64Len + len(secrets)*stripeEntry)
	defer putScratch(sc)
	pre := append(strconv.AppendInt(sc.pre[:0], msg.Timestamp.Unix(), 10), '.')
	buf := append(sc.buf, "t="...)
	buf = append(buf, pre[:len(pre)-1]...)
	for i, secret := range secrets {
		if secret == "" {
			return fmt.Errorf("signing: stripe secret %d: %w", i, ErrNoSecret)
		}
		mac := hmac.New(sha256.New, rawKey(sc.key[:0], secret))
		mac.Write(pre)
		mac.Write(msg.Body)
		buf = append(buf, ",v1="...)
		buf = hex.AppendEncode(buf, mac.Sum(sc.sum[:0]))
	}
	sc.buf = buf
	h[HeaderStripeSignature] = []string{string(buf)}
	return nil
}

// signGitHub signs the body alone with the first (newest) secret.
func signGitHub(secrets []string, msg Message, h http.Header) error {
	if len(secrets) == 0 || secrets[0] == "" {
		return fmt.Errorf("signing: github: %w", ErrNoSecret)
	}
	sc := getScratch(githubLen)
	defer putScratch(sc)
	mac := hmac.New(sha256.New, rawKey(sc.key[:0], secrets[0]))
	mac.Write(msg.Body)
	b := append(sc.buf, "sha256="...)
	b = hex.AppendEncode(b, mac.Sum(sc.sum[:0]))
	h[HeaderGitHubSignature] = []string{string(b)}
	return nil
}

// rawKey returns the secret's bytes, copied into dst when they fit so the
// string-to-bytes conversion does not allocate.
func rawKey(dst []byte, secret string) []byte {
	if len(secret) <= cap(dst) {
		return append(dst, secret...)
	}
	return []byte(secret)
}

// checkID refuses ids that would not survive as a header value unchanged:
// empty, or holding spaces, controls or non-ASCII that proxies may rewrite.
func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty id", ErrBadMessage)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: id has byte %#x at %d", ErrBadMessage, c, i)
		}
	}
	return nil
}

// checkTime refuses the zero time: it means the caller forgot the attempt
// time, and every receiver would reject the signature as too old.
func checkTime(t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%w: zero timestamp", ErrBadMessage)
	}
	return nil
}
