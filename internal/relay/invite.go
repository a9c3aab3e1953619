package relay

import (
	"context"
	"errors"

	"golang.org/x/crypto/bcrypt"

	"github.com/hookrelay/hookrelay/internal/store"
)

// RevokeInvite cancels an open invite of the current team so its link no
// longer works. As with creating one, only owners touch owner invites.
func (r *Relay) RevokeInvite(ctx context.Context, c *Current, ip, id string) error {
	if !c.Can(PermMembers) {
		return ErrForbidden
	}
	return r.st.Tx(ctx, func(tx *store.Store) error {
		in, err := tx.GetInvite(ctx, c.TeamID, id)
		if err != nil {
			return err
		}
		if in.Role == store.RoleOwner && !c.Can(PermOwner) {
			return ErrForbidden
		}
		if err := tx.RevokeInvite(ctx, c.TeamID, id, r.Now()); err != nil {
			return err
		}
		return r.audit(ctx, tx, c.Actor(ip), "invite.revoke", "invite", id,
			map[string]any{"before": map[string]any{"role": in.Role, "email": in.Email, "expires_at": in.ExpiresAt}})
	})
}

// ErrJoinRefused is the invite form's one answer when the email belongs to
// an account and the password is not that account's. It never says the
// email is registered: the invite form must not tell strangers who has an
// account.
var ErrJoinRefused = errors.New("this email and password cannot join with this link; if you already have a hookrelay account, enter its password, or sign in first and open the link again")

// JoinWithInvite is the invite form of a visitor without a session: a new
// email gets an account, an existing account joins when the password is
// its own (a sign-in), and either way the user joins the invite's team and
// gets a session. Attempts are throttled like sign-in (the same budget),
// and the password rules are checked before the email is looked up, so a
// registered email gets no different answer for a weak password.
func (r *Relay) JoinWithInvite(ctx context.Context, token, email, name, password, ip, userAgent string) (*Login, error) {
	if err := r.throttleSignIn(ctx, email, ip); err != nil {
		return nil, err
	}
	in, err := r.LookupInvite(ctx, token)
	if err != nil {
		return nil, err
	}
	email, err = checkEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password, email); err != nil {
		return nil, err
	}
	u, err := r.st.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a := Actor{TeamID: in.TeamID, Kind: "user", ID: email, IP: ip}
		u, err = r.CreateUser(ctx, a, email, name, password, "", "")
		var ve *ValidationError
		if errors.As(err, &ve) && ve.Field == "email" {
			return nil, ErrJoinRefused // registered meanwhile: the same answer
		}
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil:
		if err := r.auditUserTeams(ctx, r.st, u, ip, "user.login_failed"); err != nil {
			r.log.Warn("audit_failed", "action", "user.login_failed", "error", err.Error())
		}
		return nil, ErrJoinRefused
	}
	if _, err := r.AcceptInvite(ctx, token, u, ip); err != nil {
		return nil, err
	}
	return r.openSession(ctx, u, ip, userAgent)
}
