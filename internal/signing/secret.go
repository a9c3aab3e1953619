package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// secretBytes is the amount of randomness in a symmetric secret: 256 bits,
// the HMAC-SHA256 block-size sweet spot the Standard Webhooks spec suggests.
const secretBytes = 32

// NewSecret makes a fresh random secret suited to the scheme:
// "whsec_" + base64(32 random bytes) for StandardWebhooks, Stripe and GitHub,
// "" for None. The same shape works for all three so an endpoint can switch
// scheme without a new secret; Stripe and GitHub use the whole string as key.
func NewSecret(scheme Scheme) (string, error) {
	switch scheme {
	case None:
		return "", nil
	case StandardWebhooks, Stripe, GitHub:
		var b [secretBytes]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("signing: new secret: %w", err)
		}
		return SymmetricPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
	default:
		return "", fmt.Errorf("signing: new secret: %w %q", ErrUnknownScheme, string(scheme))
	}
}

// NewEd25519Secret makes an asymmetric Standard Webhooks key pair: private
// "whsk_<b64 of the 64-byte ed25519 private key>" to store as the endpoint
// secret, and public "whpk_<b64 of the 32-byte public key>" to show the team.
func NewEd25519Secret() (private, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("signing: new ed25519 key: %w", err)
	}
	return PrivateKeyPrefix + base64.StdEncoding.EncodeToString(priv),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// PublicKey returns the "whpk_" public key for a "whsk_" secret. The secret
// may hold a 64-byte private key or a 32-byte seed; a 64-byte key whose public
// half does not match its seed is refused, since it would sign with a key no
// receiver can hold.
func PublicKey(secret string) (string, error) {
	priv, err := privateKey(secret)
	if err != nil {
		return "", err
	}
	pub := ed25519.NewKeyFromSeed(priv.Seed()).Public().(ed25519.PublicKey)
	if !pub.Equal(ed25519.PublicKey(priv[ed25519.SeedSize:])) {
		return "", fmt.Errorf("%w: ed25519 public half does not match seed", ErrBadSecret)
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// privateKey decodes a "whsk_" secret.
func privateKey(secret string) (ed25519.PrivateKey, error) {
	enc, ok := strings.CutPrefix(secret, PrivateKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: want a %q ed25519 key", ErrBadSecret, PrivateKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: ed25519 key is not base64", ErrBadSecret)
	}
	switch len(raw) {
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	default:
		return nil, fmt.Errorf("%w: ed25519 key has %d bytes, want %d or %d",
			ErrBadSecret, len(raw), ed25519.SeedSize, ed25519.PrivateKeySize)
	}
}

// hmacKey decodes a Standard Webhooks symmetric secret into dst, which is
// usually a stack buffer so the hot path does not allocate. Like the
// reference libraries, the "whsec_" prefix is optional.
func hmacKey(dst []byte, secret string) ([]byte, error) {
	if strings.HasPrefix(secret, PrivateKeyPrefix) || strings.HasPrefix(secret, PublicKeyPrefix) {
		return nil, fmt.Errorf("%w: not a symmetric secret", ErrBadSecret)
	}
	enc := strings.TrimPrefix(secret, SymmetricPrefix)
	if enc == "" {
		return nil, ErrNoSecret
	}
	if n := base64.StdEncoding.DecodedLen(len(enc)); n > cap(dst) {
		dst = make([]byte, n)
	}
	// Copy into a stack buffer: converting the string directly would allocate.
	var src []byte
	var srcBuf [88]byte
	if len(enc) <= len(srcBuf) {
		src = srcBuf[:copy(srcBuf[:], enc)]
	} else {
		src = []byte(enc)
	}
	n, err := base64.StdEncoding.Decode(dst[:cap(dst)], src)
	if err != nil {
		return nil, fmt.Errorf("%w: symmetric secret is not base64", ErrBadSecret)
	}
	return dst[:n], nil
}
