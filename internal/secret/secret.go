// Package secret encrypts secrets at rest with AES-256-GCM. Each ciphertext
// carries the id of the key that sealed it, so keys can be rotated: the
// first key encrypts, every configured key can decrypt.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownKey means a ciphertext names a key id that is not configured.
var ErrUnknownKey = errors.New("secret: unknown key id")

// Box seals and opens secrets.
type Box struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// ParseKeys parses "kid:base64key,kid2:base64key" (32-byte keys).
func ParseKeys(spec string) (*Box, error) {
	b := &Box{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		// Errors name the entry by position, never by content: a malformed
		// entry may be a bare key.
		kid, enc, ok := strings.Cut(part, ":")
		if !ok || kid == "" || len(kid) > 32 {
			return nil, fmt.Errorf("secret: key entry %d: want kid:base64", i+1)
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("secret: key %q: want base64 of 32 bytes", kid)
		}
		if err := b.add(kid, raw); err != nil {
			return nil, err
		}
	}
	if b.primary == "" {
		return nil, errors.New("secret: no key configured")
	}
	return b, nil
}

// NewKey returns a fresh key spec "kid:base64(32 random bytes)".
func NewKey(kid string) string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return kid + ":" + base64.StdEncoding.EncodeToString(k)
}

func (b *Box) add(kid string, key []byte) error {
	if _, dup := b.aeads[kid]; dup {
		return fmt.Errorf("secret: key id %q given twice", kid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("secret: key %q: %w", kid, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("secret: key %q: %w", kid, err)
	}
	b.aeads[kid] = aead
	if b.primary == "" {
		b.primary = kid
	}
	return nil
}

// KeyID returns the id of the key new secrets are sealed with.
func (b *Box) KeyID() string { return b.primary }

// Seal encrypts plaintext; the additional data binds the ciphertext to its
// owner (e.g. "src_…") so a ciphertext copied to another row will not open.
func (b *Box) Seal(plaintext, ad []byte) (kid string, ciphertext []byte) {
	aead := b.aeads[b.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return b.primary, aead.Seal(nonce, nonce, plaintext, ad)
}

// Open decrypts a ciphertext sealed by key kid.
func (b *Box) Open(kid string, ciphertext, ad []byte) ([]byte, error) {
	aead, ok := b.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
	}
	n := aead.NonceSize()
	if len(ciphertext) < n {
		return nil, errors.New("secret: ciphertext too short")
	}
	pt, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("secret: open with key %q: %w", kid, err)
	}
	return pt, nil
}

// sealedPrefix starts a value sealed by SealString. A key id never holds
// ':' (ParseKeys splits on the first one), so "enc1:kid:base64" parses
// unambiguously.
const sealedPrefix = "enc1:"

// SealString encrypts a short text value into a self-describing string,
// "enc1:<key id>:<base64 ciphertext>", for columns that hold text (header
// values, ingest tokens).
func (b *Box) SealString(plaintext string, ad []byte) string {
	kid, ct := b.Seal([]byte(plaintext), ad)
	return sealedPrefix + kid + ":" + base64.RawStdEncoding.EncodeToString(ct)
}

// IsSealed reports whether v was made by SealString; anything else is a
// plaintext value stored before sealing existed.
func IsSealed(v string) bool { return strings.HasPrefix(v, sealedPrefix) }

// SealedKeyID returns the key id of a value made by SealString, "" for a
// plaintext value.
func SealedKeyID(v string) string {
	if !IsSealed(v) {
		return ""
	}
	kid, _, _ := strings.Cut(strings.TrimPrefix(v, sealedPrefix), ":")
	return kid
}

// OpenString decrypts a value made by SealString with the same additional
// data. The error never contains the value.
func (b *Box) OpenString(v string, ad []byte) (string, error) {
	if !IsSealed(v) {
		return "", errors.New("secret: value is not sealed")
	}
	kid, enc, ok := strings.Cut(strings.TrimPrefix(v, sealedPrefix), ":")
	if !ok {
		return "", errors.New("secret: malformed sealed value")
	}
	ct, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return "", errors.New("secret: malformed sealed value")
	}
	pt, err := b.Open(kid, ct, ad)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
