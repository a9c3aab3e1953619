package task

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestDeliverTaskIDs(t *testing.T) {
	for _, c := range []struct {
		attempt int
		nonce   string
		want    string
	}{
		{1, "", "dlv_1"},
		{3, "", "dlv_1/3"},
		{1, "abc", "dlv_1/manual/abc"},
		{4, "w1", "dlv_1/4/manual/w1"},
	} {
		if got := DeliverTaskID("dlv_1", c.attempt, c.nonce); got != c.want {
			t.Errorf("DeliverTaskID(%d, %q) = %q, want %q", c.attempt, c.nonce, got, c.want)
		}
	}
}

func TestDeliverPayloadRoundTrip(t *testing.T) {
	in := Deliver{DeliveryID: "dlv_1", Attempt: 2, Manual: true}
	got, err := ParseDeliver(NewDeliver(in, "", time.Time{}))
	if err != nil || got != in {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}

func TestBadDeliverPayloadIsNotRetried(t *testing.T) {
	for _, payload := range []string{"", "{", `{"d":""}`, `{"d":"dlv_1","n":0}`} {
		_, err := ParseDeliver(asynq.NewTask(TypeDeliver, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %q: %v, want SkipRetry", payload, err)
		}
	}
}
