package relay

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// passwordsTxt is the list of common passwords refused everywhere a
// password is set (sign-up through an invite, admin create-user,
// bootstrap, password change). It ships in the binary: no download at
// start, and no network needed to refuse "password123".
//
//go:embed passwords.txt
var passwordsTxt string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 6000)
	for _, l := range strings.Split(passwordsTxt, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = struct{}{}
		}
	}
	return m
})

// PasswordRules says, for help texts, what checkPassword accepts.
const PasswordRules = "10 to 72 bytes, not one of the commonest passwords, not a few characters repeated, " +
	"not your email or its name part"

// checkPassword refuses passwords that are too short or long for bcrypt,
// among the commonest, a short pattern repeated ("aaaaaaaaaa",
// "abcabcabca"), or the user's own email or its local part. The messages
// say what to change, never just "weak".
func checkPassword(pw, email string) error {
	if len(pw) < 10 {
		return invalid("password", "must be at least 10 characters")
	}
	if len(pw) > 72 {
		return invalid("password", "must be at most 72 bytes")
	}
	low := strings.ToLower(strings.TrimSpace(pw))
	if _, ok := commonPasswords()[low]; ok {
		return invalid("password", "is one of the most common passwords; choose one that is harder to guess")
	}
	if repeated(low) {
		return invalid("password", "repeats a few characters; choose one that is harder to guess")
	}
	if isOwnEmail(low, email) {
		return invalid("password", "must not be your email address or contain only its name part")
	}
	return nil
}

// repeated reports whether s is a unit of at most 4 characters repeated
// (and possibly cut short): "aaaaaaaaaa", "ababababab", "abcdabcdab".
func repeated(s string) bool {
	r := []rune(s)
	for n := 1; n <= 4 && n < len(r); n++ {
		same := true
		for i := n; i < len(r) && same; i++ {
			same = r[i] == r[i%n]
		}
		if same {
			return true
		}
	}
	return false
}

// isOwnEmail reports whether pw (lowercased) is the email, or its local
// part (possibly repeated) with only digits and punctuation around it
// ("jsmith2024!", "jsmithjsmith").
func isOwnEmail(pw, email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return false
	}
	if pw == email {
		return true
	}
	local, _, _ := strings.Cut(email, "@")
	if local == "" {
		return false
	}
	if !strings.Contains(pw, local) {
		return false
	}
	rest := strings.ReplaceAll(pw, local, "")
	return strings.IndexFunc(rest, unicode.IsLetter) < 0
}
