package task

import (
	"errors"
	"reflect"
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
	for _, in := range []Deliver{
		{DeliveryID: "dlv_1", Attempt: 2, Manual: true},
		{DeliveryID: "dlv_1", More: []string{"dlv_2", "dlv_3"}, EndpointID: "ep_1", Attempt: 1},
	} {
		got, err := ParseDeliver(NewDeliver(in, "", time.Time{}))
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Fatalf("round trip: %+v, %v", got, err)
		}
	}
}

// A group's task id is derived from its deliveries: the same group
// dispatched twice collides (a no-op), a group of one keeps the plain id
// the sweeper and the single-delivery paths use.
func TestGroupTaskIDs(t *testing.T) {
	one := Deliver{DeliveryID: "dlv_1", Attempt: 1}
	three := Deliver{DeliveryID: "dlv_1", More: []string{"dlv_2", "dlv_3"}, Attempt: 1}
	for _, c := range []struct {
		p     Deliver
		nonce string
		want  string
	}{
		{one, "", "dlv_1"},
		{three, "", "dlv_1+2"},
		{three, "w1", "dlv_1/manual/w1+2"},
	} {
		if got := GroupTaskID(c.p, c.nonce); got != c.want {
			t.Errorf("GroupTaskID(%+v, %q) = %q, want %q", c.p, c.nonce, got, c.want)
		}
	}
	if ids := three.DeliveryIDs(); !reflect.DeepEqual(ids, []string{"dlv_1", "dlv_2", "dlv_3"}) {
		t.Fatalf("DeliveryIDs = %v", ids)
	}
}

func TestBadDeliverPayloadIsNotRetried(t *testing.T) {
	for _, payload := range []string{"", "{", `{"d":""}`, `{"d":"dlv_1","n":0}`, `{"d":"dlv_1","n":1,"ds":[""]}`} {
		_, err := ParseDeliver(asynq.NewTask(TypeDeliver, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %q: %v, want SkipRetry", payload, err)
		}
	}
}
