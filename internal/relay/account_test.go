package relay_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// countLimiter keeps a count per key and allows what the caller's limit
// allows; n, when set, is a lower limit for every key.
type countLimiter struct {
	n    int
	seen map[string]int
}

func (l *countLimiter) Allow(_ context.Context, key string, perMinute int) (bool, error) {
	l.seen[key]++
	if l.n > 0 {
		perMinute = min(perMinute, l.n)
	}
	return l.seen[key] <= perMinute, nil
}

func newRelay(t *testing.T, lim relay.Limiter) (*relay.Relay, *store.Store, string) {
	db, _ := testenv.Postgres(t)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	st := store.New(db)
	r := relay.New(relay.Deps{Store: st, Box: box, LoginLimiter: lim}, relay.Options{BcryptCost: 4})
	team := &store.Team{ID: store.NewID("team"), Name: "A"}
	testenv.Must(t, st.CreateTeam(context.Background(), team))
	return r, st, team.ID
}

func TestLoginSessionsAndPasswordChange(t *testing.T) {
	ctx := context.Background()
	r, st, team := newRelay(t, nil)
	sys := relay.SystemActor(team)
	if _, err := r.CreateUser(ctx, sys, "Ann@Example.com", "Ann", "short", team, "owner"); err == nil {
		t.Fatal("short password accepted")
	}
	if _, err := r.CreateUser(ctx, sys, "not-an-email", "Ann", "long enough pw", team, "owner"); err == nil {
		t.Fatal("bad email accepted")
	}
	u, err := r.CreateUser(ctx, sys, "Ann@Example.com", "Ann", "correct horse", team, "owner")
	testenv.Must(t, err)
	if _, err := r.CreateUser(ctx, sys, "ann@example.com", "Dup", "correct horse", "", ""); err == nil {
		t.Fatal("duplicate email (other case) accepted")
	}
	if _, err := r.Login(ctx, "ann@example.com", "wrong password", "10.0.0.1", "ua"); !errors.Is(err, relay.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := r.Login(ctx, "nobody@example.com", "whatever pw", "10.0.0.1", "ua"); !errors.Is(err, relay.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	l1, err := r.Login(ctx, "ann@example.com", "correct horse", "10.0.0.1", "ua")
	testenv.Must(t, err)
	l2, err := r.Login(ctx, "ann@example.com", "correct horse", "10.0.0.2", "ua")
	testenv.Must(t, err)
	cur, err := r.SessionFromToken(ctx, l1.Token)
	testenv.Must(t, err)
	if cur.User.ID != u.ID || cur.TeamID != team || cur.Role != "owner" || !cur.Can(relay.PermOwner) {
		t.Fatalf("current = %+v", cur)
	}
	// The password change keeps this session and revokes the other.
	testenv.Must(t, r.ChangePassword(ctx, cur, "10.0.0.1", "correct horse", "battery staple"))
	if _, err := r.SessionFromToken(ctx, l2.Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other session survived the password change: %v", err)
	}
	if _, err := r.SessionFromToken(ctx, l1.Token); err != nil {
		t.Fatalf("own session revoked: %v", err)
	}
	testenv.Must(t, r.Logout(ctx, l1.Token, "10.0.0.1"))
	testenv.Must(t, r.Logout(ctx, l1.Token, "10.0.0.1")) // twice: nothing left to do
	if _, err := r.SessionFromToken(ctx, l1.Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session alive after logout: %v", err)
	}
	rows, err := st.ListAudit(ctx, store.AuditFilter{TeamID: team})
	testenv.Must(t, err)
	seen := map[string]int{}
	for _, a := range rows {
		seen[a.Action]++
	}
	if seen["user.login"] != 2 || seen["user.login_failed"] != 1 || seen["user.password_change"] != 1 || seen["member.add"] != 1 || seen["user.logout"] != 1 {
		t.Fatalf("audit actions: %v", seen)
	}
}

func TestLoginThrottled(t *testing.T) {
	ctx := context.Background()
	lim := &countLimiter{n: 3, seen: map[string]int{}}
	r, _, team := newRelay(t, lim)
	_, err := r.CreateUser(ctx, relay.SystemActor(team), "bob@example.com", "", "correct horse", team, "member")
	testenv.Must(t, err)
	for i := 0; i < 3; i++ {
		if _, err := r.Login(ctx, "bob@example.com", "nope nope nope", "10.0.0.9", ""); !errors.Is(err, relay.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := r.Login(ctx, "bob@example.com", "correct horse", "10.0.0.9", ""); !errors.Is(err, relay.ErrThrottled) {
		t.Fatalf("fourth attempt: %v, want throttled even with the right password", err)
	}
}

func TestRolesInvitesAndLastOwner(t *testing.T) {
	ctx := context.Background()
	r, st, team := newRelay(t, nil)
	sys := relay.SystemActor(team)
	_, err := r.CreateUser(ctx, sys, "owner@example.com", "", "correct horse", team, "owner")
	testenv.Must(t, err)
	admin, err := r.CreateUser(ctx, sys, "admin@example.com", "", "correct horse", team, "admin")
	testenv.Must(t, err)
	login := func(email string) *relay.Current {
		l, err := r.Login(ctx, email, "correct horse", "", "")
		testenv.Must(t, err)
		c, err := r.SessionFromToken(ctx, l.Token)
		testenv.Must(t, err)
		return c
	}
	owner, adm := login("owner@example.com"), login("admin@example.com")
	if _, _, err := r.CreateInvite(ctx, adm, "", store.RoleOwner, ""); !errors.Is(err, relay.ErrForbidden) {
		t.Fatalf("admin invited an owner: %v", err)
	}
	tok, inv, err := r.CreateInvite(ctx, adm, "", store.RoleViewer, "viv@example.com")
	testenv.Must(t, err)
	viv, err := r.CreateUser(ctx, sys, "viv@example.com", "", "correct horse", "", "")
	testenv.Must(t, err)
	if _, err := r.AcceptInvite(ctx, tok, viv, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AcceptInvite(ctx, tok, viv, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invite %s used twice: %v", inv.ID, err)
	}
	// The owner opening a viewer link to their own team stays owner.
	tok2, _, err := r.CreateInvite(ctx, owner, "", store.RoleViewer, "")
	testenv.Must(t, err)
	if _, err := r.AcceptInvite(ctx, tok2, owner.User, ""); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.GetMembership(ctx, team, owner.User.ID); m == nil || m.Role != store.RoleOwner {
		t.Fatalf("owner demoted by an invite: %+v", m)
	}
	viewer := login("viv@example.com")
	if viewer.Role != store.RoleViewer || viewer.Can(relay.PermConfigure) || !viewer.Can(relay.PermRead) {
		t.Fatalf("viewer = %+v", viewer)
	}
	if _, _, err := r.CreateInvite(ctx, viewer, "", store.RoleViewer, ""); !errors.Is(err, relay.ErrForbidden) {
		t.Fatalf("viewer invited: %v", err)
	}
	if err := r.SetRole(ctx, adm, "", owner.User.ID, store.RoleMember); !errors.Is(err, relay.ErrForbidden) {
		t.Fatalf("admin demoted an owner: %v", err)
	}
	if err := r.SetRole(ctx, owner, "", owner.User.ID, store.RoleAdmin); err == nil {
		t.Fatal("last owner demoted")
	}
	testenv.Must(t, r.SetRole(ctx, adm, "", viv.ID, store.RoleMember))
	testenv.Must(t, r.RemoveMember(ctx, owner, "", admin.ID))
	if _, err := st.GetMembership(ctx, team, admin.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed member still there: %v", err)
	}
	rows, _ := st.ListAudit(ctx, store.AuditFilter{TeamID: team, Action: "member.role_change"})
	if len(rows) != 1 || rows[0].Actor != "user:admin@example.com" {
		t.Fatalf("role change audit: %+v", rows)
	}
}

// Bootstrap on an installation that has a team but no accounts (one from
// before the dashboard) creates an owner; the operations team never counts
// as the installation's team.
func TestBootstrapUpgradesAndSkipsOpsTeam(t *testing.T) {
	ctx := context.Background()
	db, _ := testenv.Postgres(t)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: store.New(db), Box: box}, relay.Options{BcryptCost: 4})
	testenv.Must(t, r.EnsureOps(ctx, "http://127.0.0.1:9/notify", "whsec_bm90aWZ5LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"))
	b, err := r.Bootstrap(ctx)
	if err != nil || !b.Created || b.TeamID == relay.OpsTeamID {
		t.Fatalf("fresh bootstrap with an ops team present: %+v %v", b, err)
	}
	// An older install: a team, no users.
	db2, _ := testenv.Postgres(t)
	r2 := relay.New(relay.Deps{Store: store.New(db2), Box: box}, relay.Options{BcryptCost: 4})
	testenv.Must(t, store.New(db2).CreateTeam(ctx, &store.Team{ID: store.NewID("team"), Name: "old"}))
	b2, err := r2.Bootstrap(ctx)
	if err != nil || b2.Created || b2.AdminPassword == "" {
		t.Fatalf("upgrade bootstrap: %+v %v", b2, err)
	}
	if _, err := r2.Login(ctx, b2.AdminEmail, b2.AdminPassword, "", ""); err != nil {
		t.Fatalf("cannot log in with the upgrade account: %v", err)
	}
	b3, err := r2.Bootstrap(ctx)
	if err != nil || b3.AdminPassword != "" {
		t.Fatalf("third bootstrap made another account: %+v %v", b3, err)
	}
}

func TestPasswordRules(t *testing.T) {
	ctx := context.Background()
	r, _, team := newRelay(t, nil)
	sys := relay.SystemActor(team)
	for _, pw := range []string{"aaaaaaaaaa", "ABABABABAB", "abcdabcdabcd", "password123", "Password123", "QWERTYUIOP",
		"1234567890", "1q2w3e4r5t", "iloveyou123", "p@ssw0rd123", "hookrelay123", "carol@example.com", "Carol@Example.com",
		"carolcarol", "carol2024!", "2024carol!"} {
		_, err := r.CreateUser(ctx, sys, "carol@example.com", "", pw, team, "member")
		var ve *relay.ValidationError
		if !errors.As(err, &ve) || ve.Field != "password" {
			t.Errorf("password %q: %v, want a password error", pw, err)
		}
	}
	// Passwords of other people, long phrases and the email's domain are fine.
	for i, pw := range []string{"plum tree at dusk", "Tr0ub4dor&3x", "carol-likes-plums", "example.com rules"} {
		if _, err := r.CreateUser(ctx, sys, fmt.Sprintf("carol%d@example.com", i), "", pw, team, "member"); err != nil {
			t.Errorf("password %q refused: %v", pw, err)
		}
	}
}

func TestLoginLimitsAccountAddressAndAddress(t *testing.T) {
	ctx := context.Background()
	lim := &countLimiter{seen: map[string]int{}}
	r, _, team := newRelay(t, lim)
	_, err := r.CreateUser(ctx, relay.SystemActor(team), "dan@example.com", "", "correct horse", team, "member")
	testenv.Must(t, err)
	attempt := func(email, ip string) error {
		_, err := r.Login(ctx, email, "nope nope nope", ip, "")
		return err
	}
	for i := range 10 {
		if err := attempt("dan@example.com", "10.0.0.1"); !errors.Is(err, relay.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if err := attempt(" DAN@example.com ", "10.0.0.1"); !errors.Is(err, relay.ErrThrottled) {
		t.Fatalf("11th guess at one account from one address: %v", err)
	}
	// Another address may still try this account (no lockout by strangers).
	if _, err := r.Login(ctx, "dan@example.com", "correct horse", "10.0.0.2", ""); err != nil {
		t.Fatalf("the account is locked for every address: %v", err)
	}
	// Spraying many accounts from one address meets the looser cap.
	for i := range 70 {
		_, err := r.CreateUser(ctx, relay.SystemActor(team), fmt.Sprintf("user%d@example.com", i), "", "correct horse", "", "")
		testenv.Must(t, err)
	}
	n := 0
	for ; n < 70; n++ {
		if err := attempt(fmt.Sprintf("user%d@example.com", n), "10.0.0.3"); errors.Is(err, relay.ErrThrottled) {
			break
		}
	}
	if n != 60 {
		t.Fatalf("address throttled after %d accounts, want 60", n)
	}
}

// errLimiter is a limiter that cannot answer.
type errLimiter struct{}

func (errLimiter) Allow(context.Context, string, int) (bool, error) {
	return false, errors.New("dial tcp: refused")
}

func TestLoginFailsClosed(t *testing.T) {
	ctx := context.Background()
	r, _, team := newRelay(t, errLimiter{})
	_, err := r.CreateUser(ctx, relay.SystemActor(team), "eve@example.com", "", "correct horse", team, "member")
	testenv.Must(t, err)
	if _, err := r.Login(ctx, "eve@example.com", "correct horse", "10.0.0.1", ""); !errors.Is(err, relay.ErrLimiterDown) {
		t.Fatalf("login with the limiter down: %v", err)
	}
}

// The Redis limiter counts per key in the real Redis and reports an
// unreachable Redis as an error (never as "allowed").
func TestRedisLimiter(t *testing.T) {
	ctx := context.Background()
	opt := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	defer rdb.Close()
	l := relay.NewRedisLimiter(rdb)
	for i := range 3 {
		if ok, err := l.Allow(ctx, "login:test:a", 3); !ok || err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
	}
	// GCRA refills one every 20 s at 3 a minute: allow one refill on a slow machine.
	ok1, _ := l.Allow(ctx, "login:test:a", 3)
	ok2, _ := l.Allow(ctx, "login:test:a", 3)
	if ok1 && ok2 {
		t.Fatal("two attempts over the limit allowed")
	}
	if ok, err := l.Allow(ctx, "login:test:b", 3); !ok || err != nil {
		t.Fatalf("another key throttled: %v", err)
	}
	l2 := net.ListenConfig{}
	ln, err := l2.Listen(ctx, "tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	addr := ln.Addr().String()
	testenv.Must(t, ln.Close())
	down := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer down.Close()
	if ok, err := relay.NewRedisLimiter(down).Allow(ctx, "login:test:a", 3); ok || err == nil {
		t.Fatalf("unreachable Redis: allowed=%v err=%v", ok, err)
	}
}
