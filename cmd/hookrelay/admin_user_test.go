package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// bootstrap prints a first owner account that can sign in; create-user
// makes more accounts.
func TestBootstrapOwnerAndCreateUser(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	getenv := testGetenv(t, dsn, nil)
	ctx := context.Background()
	var out bytes.Buffer
	testenv.Must(t, run(ctx, []string{"hookrelay", "admin", "bootstrap"}, getenv, &out))
	m := regexp.MustCompile(`Dashboard login \(shown once\):\s+admin@hookrelay\.local / (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("bootstrap output: %q", out.String())
	}
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: store.New(db), Box: box}, relay.Options{BcryptCost: 4})
	l, err := r.Login(ctx, "admin@hookrelay.local", m[1], "127.0.0.1", "")
	testenv.Must(t, err)
	cur, err := r.SessionFromToken(ctx, l.Token)
	testenv.Must(t, err)
	if cur.Role != store.RoleOwner {
		t.Fatalf("bootstrap account role %q", cur.Role)
	}

	out.Reset()
	args := []string{"hookrelay", "admin", "create-user", "--email", "ops@example.test", "--password", "a long password",
		"--team", cur.TeamID, "--role", "viewer"}
	testenv.Must(t, run(ctx, args, getenv, &out))
	if !strings.Contains(out.String(), "viewer of team "+cur.TeamID) {
		t.Fatalf("create-user output: %q", out.String())
	}
	l, err = r.Login(ctx, "ops@example.test", "a long password", "127.0.0.1", "")
	testenv.Must(t, err)
	if cur, err = r.SessionFromToken(ctx, l.Token); err != nil || cur.Role != store.RoleViewer {
		t.Fatalf("created user: %+v %v", cur, err)
	}
	for _, bad := range [][]string{
		{"--email", "ops@example.test", "--password", "a long password"}, // taken
		{"--email", "x@example.test", "--password", "short"},
		{"--email", "w@example.test", "--password", "Password123"}, // common
		{"--email", "y@example.test", "--password", "a long password", "--team", "team_nope"},
		{"--email", "z@example.test"},
	} {
		if err := run(ctx, append([]string{"hookrelay", "admin", "create-user"}, bad...), getenv, &out); err == nil {
			t.Fatalf("create-user %v accepted", bad)
		}
	}
}

// TestPasswordHelpStatesRules: the help of both account commands states
// every rule the password check applies, not only the length.
func TestPasswordHelpStatesRules(t *testing.T) {
	getenv := testGetenv(t, "postgres://127.0.0.1:1/none", nil)
	for _, cmd := range [][]string{{"admin", "create-user", "-h"}, {"admin", "user", "create", "-h"}} {
		var out bytes.Buffer
		_ = run(context.Background(), append([]string{"hookrelay"}, cmd...), getenv, &out)
		for _, want := range []string{"10 to 72 bytes", "commonest passwords", "repeated", "your email"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v help lacks %q:\n%s", cmd, want, out.String())
			}
		}
	}
}
