package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"
)

// onceCookie carries a secret that was just created (a new endpoint's, a
// rotated one) across the redirect after the POST, so the page shows it
// once and a reload neither posts again nor shows it again.
const onceCookie = "hookrelay_once"

// onceTTL bounds how long an unread secret waits in the browser.
const onceTTL = 5 * time.Minute

// onceAEAD is the cipher that seals the once cookie: its key comes from the
// session token, so the cookie is useless outside this session and the
// secret never sits in plaintext in a cookie jar or a proxy's log.
func onceAEAD(c *fiber.Ctx) (cipher.AEAD, bool) {
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return nil, false
	}
	mac := hmac.New(sha256.New, []byte(tok))
	mac.Write([]byte("hookrelay once-secret v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, false
	}
	aead, err := cipher.NewGCM(block)
	return aead, err == nil
}

// redirectOnce answers 303 to page with a success flash and the secret
// sealed in a cookie only that page (and its sub-paths) receives.
func (d *Dashboard) redirectOnce(c *fiber.Ctx, page, msg, secret string) error {
	if aead, ok := onceAEAD(c); ok && secret != "" {
		nonce := make([]byte, aead.NonceSize())
		_, _ = rand.Read(nonce)
		sealed := aead.Seal(nonce, nonce, []byte(secret), []byte(page))
		c.Cookie(&fiber.Cookie{Name: onceCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: page,
			HTTPOnly: true, Secure: d.secure, SameSite: fiber.CookieSameSiteStrictMode,
			MaxAge: int(onceTTL.Seconds()), Expires: time.Now().Add(onceTTL)})
	}
	return d.redirect(c, page, msg)
}

// takeOnce returns the secret sealed for this page, "" if there is none,
// and deletes the cookie: the secret is shown on one page view only.
func (d *Dashboard) takeOnce(c *fiber.Ctx) string {
	v := c.Cookies(onceCookie)
	if v == "" {
		return ""
	}
	page := c.Path()
	c.Cookie(&fiber.Cookie{Name: onceCookie, Value: "", Path: page, HTTPOnly: true, Secure: d.secure,
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: -1, Expires: time.Unix(1, 0)})
	aead, ok := onceAEAD(c)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if !ok || err != nil || len(b) < aead.NonceSize() {
		return ""
	}
	pt, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(page))
	if err != nil {
		return ""
	}
	return string(pt)
}
