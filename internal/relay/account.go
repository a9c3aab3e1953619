package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Dashboard account errors.
var (
	// ErrBadCredentials is a wrong email or password (never which one).
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrThrottled means too many login attempts; try again later.
	ErrThrottled = errors.New("too many attempts, try again in a minute")
	// ErrForbidden means the role does not allow the action.
	ErrForbidden = errors.New("your role does not allow this")
)

// SessionTTL is how long a dashboard login lasts without activity limits.
const SessionTTL = 7 * 24 * time.Hour

// InviteTTL is how long an invite link works.
const InviteTTL = 7 * 24 * time.Hour

// DefaultBcryptCost balances login latency (~100 ms here) against brute force.
const DefaultBcryptCost = 11

// Permissions, checked on the server for every page and action.
type Permission int

// Permission values: every role reads; members configure and redeliver;
// admins also manage secrets, members and tokens; owners everything.
const (
	PermRead Permission = iota
	PermConfigure
	PermSecrets
	PermMembers
	PermOwner
)

var roleRank = map[string]int{store.RoleViewer: 0, store.RoleMember: 1, store.RoleAdmin: 2, store.RoleOwner: 3}
var permRank = map[Permission]int{PermRead: 0, PermConfigure: 1, PermSecrets: 2, PermMembers: 2, PermOwner: 3}

// Allowed reports whether role grants p.
func Allowed(role string, p Permission) bool {
	r, ok := roleRank[role]
	return ok && r >= permRank[p]
}

// ValidRole reports whether role is a known role.
func ValidRole(role string) bool { _, ok := roleRank[role]; return ok }

func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func checkEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if err := checkEmailLen(email); err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return "", invalid("email", "is not a valid email address")
	}
	return email, nil
}

// CreateUser makes an account and, when teamID is set, a membership.
func (r *Relay) CreateUser(ctx context.Context, a Actor, email, name, password, teamID, role string) (*store.User, error) {
	email, err := checkEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password, email); err != nil {
		return nil, err
	}
	if teamID != "" && !ValidRole(role) {
		return nil, invalid("role", "must be owner, admin, member or viewer")
	}
	if err := checkLen("name", strings.TrimSpace(name), MaxNameLen); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), r.opt.BcryptCost)
	if err != nil {
		return nil, err
	}
	u := &store.User{ID: store.NewID("usr"), Email: email, Name: strings.TrimSpace(name), PasswordHash: string(hash)}
	err = r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return invalid("email", "is already registered")
			}
			return err
		}
		if teamID == "" {
			return r.audit(ctx, tx, a, "user.create", "user", u.ID, map[string]any{"email": email})
		}
		if err := tx.UpsertMembership(ctx, &store.Membership{TeamID: teamID, UserID: u.ID, Role: role}); err != nil {
			return err
		}
		a.TeamID = teamID
		return r.audit(ctx, tx, a, "member.add", "user", u.ID, map[string]any{"email": email, "role": role})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Login is a signed-in session: Token goes in the cookie.
type Login struct {
	Token   string
	Session *store.Session
	User    *store.User
}

// Login checks a password and opens a session. Attempts are throttled per
// account and address together, and per address (throttleSignIn); failures
// are audited in the user's teams.
func (r *Relay) Login(ctx context.Context, email, password, ip, userAgent string) (*Login, error) {
	if err := r.throttleSignIn(ctx, email, ip); err != nil {
		return nil, err
	}
	u, err := r.st.UserByEmail(ctx, strings.TrimSpace(email))
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so timing does not reveal accounts.
		_ = bcrypt.CompareHashAndPassword(r.dummyHash(), []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		if err := r.auditUserTeams(ctx, r.st, u, ip, "user.login_failed"); err != nil {
			r.log.Warn("audit_failed", "action", "user.login_failed", "error", err.Error())
		}
		return nil, ErrBadCredentials
	}
	return r.openSession(ctx, u, ip, userAgent)
}

// openSession starts a session for u, whose password was just checked.
func (r *Relay) openSession(ctx context.Context, u *store.User, ip, userAgent string) (*Login, error) {
	now := r.Now()
	tok := randomToken("hrs_")
	se := &store.Session{Hash: store.HashToken(tok), ID: store.NewID("ses"), UserID: u.ID, CSRFToken: randomToken(""),
		IP: ip, UserAgent: truncate(userAgent, 256), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionTTL)}
	if teams, err := r.st.TeamsOf(ctx, u.ID); err == nil && len(teams) > 0 {
		se.TeamID = &teams[0].TeamID
	}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateSession(ctx, se); err != nil {
			return err
		}
		return r.auditUserTeams(ctx, tx, u, ip, "user.login")
	})
	if err != nil {
		return nil, err
	}
	return &Login{Token: tok, Session: se, User: u}, nil
}

// newDummyHash returns a hash at cost, for Login to compare an unknown
// account's password with: the same cost as a real account's, so timing
// does not tell them apart. Relay makes it once, on first use, so a
// process that never signs anyone in never pays for it.
func newDummyHash(cost int) func() []byte {
	return sync.OnceValue(func() []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), cost)
		return h
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// auditUserTeams writes an audit row in every team of u (logins belong to
// no single team, and each team's reviewers should see them).
// A user in no team gets one row with an empty team, so nothing goes
// unrecorded. Pass the transaction of the change it records.
func (r *Relay) auditUserTeams(ctx context.Context, st *store.Store, u *store.User, ip, action string) error {
	teams, err := st.TeamsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(teams) == 0 {
		teams = []store.Membership{{}}
	}
	for _, m := range teams {
		a := Actor{TeamID: m.TeamID, Kind: "user", ID: u.Email, IP: ip}
		if err := r.audit(ctx, st, a, action, "user", u.ID, nil); err != nil {
			return err
		}
	}
	return nil
}

// Current is who a session belongs to and what it may do.
type Current struct {
	Session *store.Session
	User    *store.User
	TeamID  string
	Role    string // "" when the user belongs to no team
	Teams   []store.Membership
}

// Actor returns the audit actor of the signed-in user.
func (c *Current) Actor(ip string) Actor {
	return Actor{TeamID: c.TeamID, Kind: "user", ID: c.User.Email, IP: ip}
}

// Can reports whether the current role grants p.
func (c *Current) Can(p Permission) bool { return c.Role != "" && Allowed(c.Role, p) }

// SessionFromToken resolves a session cookie; store.ErrNotFound when the
// session is unknown, expired or revoked.
func (r *Relay) SessionFromToken(ctx context.Context, token string) (*Current, error) {
	se, err := r.st.SessionByHash(ctx, store.HashToken(token), r.Now())
	if err != nil {
		return nil, err
	}
	u, err := r.st.GetUser(ctx, se.UserID)
	if err != nil {
		return nil, err
	}
	teams, err := r.st.TeamsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	c := &Current{Session: se, User: u, Teams: teams}
	for _, m := range teams {
		if se.TeamID != nil && m.TeamID == *se.TeamID {
			c.TeamID, c.Role = m.TeamID, m.Role
		}
	}
	if c.Role == "" && len(teams) > 0 { // removed from that team: fall back
		c.TeamID, c.Role = teams[0].TeamID, teams[0].Role
	}
	return c, nil
}

// Logout revokes a session.
func (r *Relay) Logout(ctx context.Context, token, ip string) error {
	hash := store.HashToken(token)
	se, err := r.st.SessionByHash(ctx, hash, r.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil // already gone: nothing to revoke or record
	}
	if err != nil {
		return err
	}
	u, err := r.st.GetUser(ctx, se.UserID)
	if err != nil {
		return err
	}
	return r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteSession(ctx, hash); err != nil {
			return err
		}
		return r.auditUserTeams(ctx, tx, u, ip, "user.logout")
	})
}

// SwitchTeam points a session at another of the user's teams.
func (r *Relay) SwitchTeam(ctx context.Context, c *Current, teamID string) error {
	if _, err := r.st.GetMembership(ctx, teamID, c.User.ID); err != nil {
		return err
	}
	return r.st.SetSessionTeam(ctx, c.Session.Hash, teamID)
}

// ChangePassword checks the old password, sets the new one and revokes
// every other session of the user.
func (r *Relay) ChangePassword(ctx context.Context, c *Current, ip, oldPW, newPW string) error {
	if bcrypt.CompareHashAndPassword([]byte(c.User.PasswordHash), []byte(oldPW)) != nil {
		return invalid("current_password", "is wrong")
	}
	if err := checkPassword(newPW, c.User.Email); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(newPW), r.opt.BcryptCost)
	if err != nil {
		return err
	}
	return r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetPassword(ctx, c.User.ID, string(hash), r.Now()); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, c.User.ID, c.Session.Hash); err != nil {
			return err
		}
		return r.auditUserTeams(ctx, tx, c.User, ip, "user.password_change")
	})
}

// CreateTeam makes a team with the user as its owner.
func (r *Relay) CreateTeam(ctx context.Context, c *Current, ip, name string) (*store.Team, error) {
	if strings.TrimSpace(name) == "" {
		return nil, invalid("name", "is required")
	}
	if err := checkLen("name", strings.TrimSpace(name), MaxNameLen); err != nil {
		return nil, err
	}
	if ok, err := r.MayCreateTeam(ctx, c); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrTeamCreation
	}
	t := &store.Team{ID: store.NewID("team"), Name: strings.TrimSpace(name)}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateTeam(ctx, t); err != nil {
			return err
		}
		if err := tx.UpsertMembership(ctx, &store.Membership{TeamID: t.ID, UserID: c.User.ID, Role: store.RoleOwner}); err != nil {
			return err
		}
		a := c.Actor(ip)
		a.TeamID = t.ID
		return r.audit(ctx, tx, a, "team.create", "team", t.ID, map[string]any{"name": t.Name})
	})
	return t, err
}

// CreateInvite makes an invite link token for a role. Only owners invite owners.
func (r *Relay) CreateInvite(ctx context.Context, c *Current, ip, role, email string) (string, *store.Invite, error) {
	if !c.Can(PermMembers) || (role == store.RoleOwner && !c.Can(PermOwner)) {
		return "", nil, ErrForbidden
	}
	if !ValidRole(role) {
		return "", nil, invalid("role", "must be owner, admin, member or viewer")
	}
	if err := checkEmailLen(strings.TrimSpace(email)); err != nil {
		return "", nil, err
	}
	tok := randomToken("inv_")
	in := &store.Invite{ID: store.NewID("inv"), TeamID: c.TeamID, Role: role, Hash: store.HashToken(tok),
		Email: strings.TrimSpace(email), CreatedBy: c.User.ID, CreatedAt: r.Now(), ExpiresAt: r.Now().Add(InviteTTL)}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateInvite(ctx, in); err != nil {
			return err
		}
		return r.audit(ctx, tx, c.Actor(ip), "invite.create", "invite", in.ID, map[string]any{"role": role, "email": in.Email})
	})
	return tok, in, err
}

// LookupInvite finds an open invite by its link token.
func (r *Relay) LookupInvite(ctx context.Context, token string) (*store.Invite, error) {
	return r.st.InviteByHash(ctx, store.HashToken(token), r.Now())
}

// AcceptInvite adds userID to the invite's team with its role.
func (r *Relay) AcceptInvite(ctx context.Context, token string, u *store.User, ip string) (*store.Invite, error) {
	in, err := r.LookupInvite(ctx, token)
	if err != nil {
		return nil, err
	}
	err = r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.AcceptInvite(ctx, in.ID, u.ID, r.Now()); err != nil {
			return err
		}
		role := in.Role
		// An invite never demotes: a member accepting a lower-role link
		// keeps the role they have (else a lone owner could orphan a team).
		if m, err := tx.GetMembership(ctx, in.TeamID, u.ID); err == nil && roleRank[m.Role] > roleRank[role] {
			role = m.Role
		}
		if err := tx.UpsertMembership(ctx, &store.Membership{TeamID: in.TeamID, UserID: u.ID, Role: role}); err != nil {
			return err
		}
		a := Actor{TeamID: in.TeamID, Kind: "user", ID: u.Email, IP: ip}
		return r.audit(ctx, tx, a, "member.join", "user", u.ID, map[string]any{"role": in.Role, "invite_id": in.ID})
	})
	return in, err
}

// SetRole changes a member's role. Admins cannot grant or change owner;
// the last owner cannot be demoted.
func (r *Relay) SetRole(ctx context.Context, c *Current, ip, userID, role string) error {
	if !ValidRole(role) {
		return invalid("role", "must be owner, admin, member or viewer")
	}
	return r.st.Tx(ctx, func(tx *store.Store) error {
		m, err := tx.GetMembership(ctx, c.TeamID, userID)
		if err != nil {
			return err
		}
		if !c.Can(PermMembers) || ((role == store.RoleOwner || m.Role == store.RoleOwner) && !c.Can(PermOwner)) {
			return ErrForbidden
		}
		if m.Role == store.RoleOwner && role != store.RoleOwner {
			if n, err := tx.CountOwners(ctx, c.TeamID); err != nil || n <= 1 {
				return cmpErr(err, invalid("role", "a team needs at least one owner"))
			}
		}
		before := m.Role
		m.Role = role
		if err := tx.UpsertMembership(ctx, m); err != nil {
			return err
		}
		return r.audit(ctx, tx, c.Actor(ip), "member.role_change", "user", userID,
			map[string]any{"before": map[string]any{"role": before}, "after": map[string]any{"role": role}})
	})
}

// RemoveMember takes a user out of the current team.
func (r *Relay) RemoveMember(ctx context.Context, c *Current, ip, userID string) error {
	return r.st.Tx(ctx, func(tx *store.Store) error {
		m, err := tx.GetMembership(ctx, c.TeamID, userID)
		if err != nil {
			return err
		}
		if !c.Can(PermMembers) || (m.Role == store.RoleOwner && !c.Can(PermOwner)) {
			return ErrForbidden
		}
		if m.Role == store.RoleOwner {
			if n, err := tx.CountOwners(ctx, c.TeamID); err != nil || n <= 1 {
				return cmpErr(err, invalid("role", "a team needs at least one owner"))
			}
		}
		if err := tx.DeleteMembership(ctx, c.TeamID, userID); err != nil {
			return err
		}
		return r.audit(ctx, tx, c.Actor(ip), "member.remove", "user", userID, map[string]any{"before": map[string]any{"role": m.Role}})
	})
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return otherwise
}
