package secret

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpenRotation(t *testing.T) {
	oldSpec := NewKey("k1")
	old, err := ParseKeys(oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	kid, ct := old.Seal([]byte("whsec_abc"), []byte("src_1"))
	if kid != "k1" || bytes.Contains(ct, []byte("whsec_abc")) {
		t.Fatalf("kid=%q ciphertext holds plaintext=%v", kid, bytes.Contains(ct, []byte("whsec_abc")))
	}
	// Re-keying: k2 now encrypts, k1 still opens old rows.
	both, err := ParseKeys(NewKey("k2") + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	if both.KeyID() != "k2" {
		t.Fatalf("primary = %q, want k2", both.KeyID())
	}
	pt, err := both.Open(kid, ct, []byte("src_1"))
	if err != nil || string(pt) != "whsec_abc" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	if _, err := both.Open(kid, ct, []byte("src_2")); err == nil {
		t.Fatal("ciphertext opened under another owner's additional data")
	}
	if _, err := both.Open("k9", ct, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestParseKeysNeverEchoesAKey(t *testing.T) {
	bare := strings.TrimPrefix(NewKey("k1"), "k1:")
	_, err := ParseKeys(bare)
	if err == nil || strings.Contains(err.Error(), bare) || strings.Contains(err.Error(), bare[:12]) {
		t.Fatalf("error %v echoes the key", err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, spec := range []string{"", "k1", "k1:notbase64!", "k1:c2hvcnQ=", NewKey("a") + "," + NewKey("a")} {
		if _, err := ParseKeys(spec); err == nil {
			t.Errorf("ParseKeys(%q) accepted", spec)
		}
	}
}

func TestSealString(t *testing.T) {
	k1 := NewKey("k1")
	b, err := ParseKeys(k1)
	if err != nil {
		t.Fatal(err)
	}
	v := b.SealString("Bearer sk_live_abc", []byte("ep_1/h/Authorization"))
	if !IsSealed(v) || SealedKeyID(v) != "k1" || strings.Contains(v, "sk_live_abc") {
		t.Fatalf("sealed %q: kid %q", v, SealedKeyID(v))
	}
	if pt, err := b.OpenString(v, []byte("ep_1/h/Authorization")); err != nil || pt != "Bearer sk_live_abc" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	// Bound to its owner and name: copied elsewhere it does not open.
	if _, err := b.OpenString(v, []byte("ep_2/h/Authorization")); err == nil {
		t.Fatal("opened with another owner's additional data")
	}
	if IsSealed("Bearer x") || SealedKeyID("Bearer x") != "" {
		t.Fatal("plaintext taken for sealed")
	}
	if _, err := b.OpenString("enc1:k1:%%%", nil); err == nil {
		t.Fatal("malformed value opened")
	}
	// After a rotation the old key still opens; without it, ErrUnknownKey.
	b2, _ := ParseKeys(NewKey("k2") + "," + k1)
	if pt, err := b2.OpenString(v, []byte("ep_1/h/Authorization")); err != nil || pt != "Bearer sk_live_abc" {
		t.Fatalf("open after rotation = %q, %v", pt, err)
	}
	if SealedKeyID(b2.SealString("x", nil)) != "k2" {
		t.Fatal("new values not sealed with the newest key")
	}
	b3, _ := ParseKeys(NewKey("k3"))
	if _, err := b3.OpenString(v, []byte("ep_1/h/Authorization")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
}
