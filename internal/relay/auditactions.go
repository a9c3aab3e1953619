package relay

// AuditActions are the actions the use cases write to the audit log, for
// the dashboard's action filter (auditactions_test.go keeps the list in
// step with the code). Filters also take patterns: endpoint.*.
var AuditActions = []string{
	"api_token.create", "api_token.revoke",
	"bulk.cancel", "bulk.redeliver",
	"delivery.redeliver",
	"endpoint.create", "endpoint.delete", "endpoint.disable", "endpoint.enable", "endpoint.pause",
	"endpoint.recover", "endpoint.replay", "endpoint.resume", "endpoint.secret.reveal", "endpoint.secret.rotate",
	"endpoint.test_event", "endpoint.update",
	"event.redeliver",
	"invite.create", "invite.revoke",
	"member.add", "member.join", "member.remove", "member.role_change",
	"secrets.rekey",
	"source.backfill.cancel", "source.backfill.fail", "source.backfill.finish", "source.backfill.start",
	"source.create", "source.delete", "source.ingest_token.rotate", "source.secret.reveal", "source.update",
	"team.create",
	"user.create", "user.login", "user.login_failed", "user.logout", "user.password_change",
}
