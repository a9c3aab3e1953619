package task

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeBackfill runs a Stripe backfill job (relay.RunBackfill).
const TypeBackfill = "stripe:backfill"

// Backfill is the payload of TypeBackfill.
type Backfill struct {
	JobID string `json:"job"`
}

// NewBackfill makes the task of a backfill job. The task id is the job's,
// so a job is queued once; a run cut off by a shutdown is retried and
// starts over, skipping what it already stored.
func NewBackfill(p Backfill) *asynq.Task {
	b, _ := json.Marshal(p)
	return asynq.NewTask(TypeBackfill, b, asynq.TaskID("backfill/"+p.JobID), asynq.Queue(QueueDeliveries),
		asynq.MaxRetry(5), asynq.Timeout(time.Hour))
}

// ParseBackfill decodes a TypeBackfill payload; a bad one is not retried.
func ParseBackfill(t *asynq.Task) (Backfill, error) {
	var p Backfill
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.JobID == "" {
		return p, fmt.Errorf("task: bad %s payload %q: %w", TypeBackfill, t.Payload(), asynq.SkipRetry)
	}
	return p, nil
}
