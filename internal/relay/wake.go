package relay

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/task"
)

// A worker with nothing to do asks Redis for work every
// HOOKRELAY_POLL_INTERVAL (asynq sleeps 1/2 to 3/2 of it between empty
// polls), so a lone event waited that long before anyone sent it. Wake
// messages close that gap: after Dispatch has enqueued a few tasks (a
// quiet moment: under load the workers poll without sleeping and a busy
// one ignores the message), it also publishes them on WakeChannel, and
// an idle worker subscribed to it runs them at once (DeliverWoken). The
// queued task stays the source of truth: whoever claims a delivery first
// sends it, the other finds it claimed, and a lost message only means the
// poll picks the task up.
//
// Redis channels are server-wide, not per database: the channel name
// carries the database number, so installations sharing a Redis server
// on different databases do not wake each other's workers.
func WakeChannel(rdb *redis.Client) string {
	return "hookrelay:wake:" + strconv.Itoa(rdb.Options().DB)
}

// wakeMaxTasks is the most tasks a Dispatch announces: more means load.
const wakeMaxTasks = 4

// Waker publishes wake messages.
type Waker interface {
	Wake(ctx context.Context, payload []byte) error
}

// RedisWaker publishes on rdb's WakeChannel.
type RedisWaker struct{ rdb *redis.Client }

// NewRedisWaker returns a Waker publishing on rdb.
func NewRedisWaker(rdb *redis.Client) RedisWaker { return RedisWaker{rdb: rdb} }

// Wake publishes one message.
func (w RedisWaker) Wake(ctx context.Context, payload []byte) error {
	return w.rdb.Publish(ctx, WakeChannel(w.rdb), payload).Err()
}

// wake announces enqueued tasks (their payloads) to idle workers.
func (r *Relay) wake(ctx context.Context, ps []*task.Deliver) {
	if r.waker == nil || len(ps) == 0 || len(ps) > wakeMaxTasks {
		return
	}
	for _, p := range ps {
		b, err := json.Marshal(p)
		if err != nil {
			continue
		}
		if err := r.waker.Wake(ctx, b); err != nil {
			r.log.Debug("wake_failed", "error", err.Error())
			return
		}
	}
}

// ParseWake decodes a wake message into the task it announces.
func ParseWake(payload string) (task.Deliver, error) {
	return task.ParseDeliver(asynq.NewTask(task.TypeDeliver, []byte(payload)))
}
