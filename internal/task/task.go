// Package task names hookrelay's asynq task types and builds their
// payloads. Payloads hold ids only: Postgres has the rest.
package task

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task types.
const (
	// TypeDeliver sends one attempt of one delivery.
	TypeDeliver = "delivery:send"
	// TypeBulkRedeliver runs one batch of a bulk redelivery job.
	TypeBulkRedeliver = "bulk:redeliver"
	// TypeRetention runs the retention maintenance (partitions, expiry).
	TypeRetention = "maintenance:retention"
)

// QueueDeliveries is the queue delivery tasks run on.
const QueueDeliveries = "deliveries"

// Deliver is the payload of TypeDeliver: one attempt of each of one or
// more deliveries, all to one endpoint.
type Deliver struct {
	DeliveryID string `json:"d"`
	// More are the group's other deliveries: the dispatcher puts a batch's
	// deliveries to one endpoint in one task, so they are claimed,
	// checked against the endpoint's gate and finished together.
	More []string `json:"ds,omitempty"`
	// EndpointID is the endpoint of every delivery in the task ("" when
	// the enqueuer did not know it), so the worker can check its share of
	// slots before claiming anything.
	EndpointID string `json:"e,omitempty"`
	// Attempt is the attempt number this task may claim (1-based). A task
	// whose attempt was already claimed, or whose delivery is settled, is
	// stale and dropped.
	Attempt int `json:"n"`
	// Manual marks a redelivery asked for by a person or API client.
	Manual bool `json:"m,omitempty"`
}

// DeliveryIDs lists the task's deliveries, the first one first.
func (p Deliver) DeliveryIDs() []string {
	return append([]string{p.DeliveryID}, p.More...)
}

// DeliverTaskID is the asynq task id of an attempt. The first attempt's id
// is the delivery id itself, so enqueuing it twice is a harmless conflict.
// A nonce adds a unique suffix, "/manual/" + nonce whatever the reason:
// manual redeliveries must run now even when a scheduled retry holds the
// plain id, and attempts handed back unsent — postponed by the endpoint's
// gate (nonce "w…") or deferred for the worker share ("s…") — are queued
// again while the running task still holds theirs. The segment is only
// part of an id: nothing parses it, and only Deliver.Manual marks a
// manual redelivery.
func DeliverTaskID(deliveryID string, attempt int, manualNonce string) string {
	id := deliveryID
	if attempt > 1 {
		id += "/" + strconv.Itoa(attempt)
	}
	if manualNonce != "" {
		id += "/manual/" + manualNonce
	}
	return id
}

// GroupTaskID is the asynq task id of a group: its first delivery's task
// id plus how many more it carries, so dispatching the same batch twice
// makes the same ids (a conflict, absorbed) and a group of one keeps the
// plain id the sweeper uses.
func GroupTaskID(p Deliver, nonce string) string {
	id := DeliverTaskID(p.DeliveryID, p.Attempt, nonce)
	if len(p.More) > 0 {
		id += "+" + strconv.Itoa(len(p.More))
	}
	return id
}

// NewDeliver builds a TypeDeliver task due at processAt (zero: now).
// maxInfraRetries bounds asynq's own retries, which only happen when the
// handler cannot reach Postgres; endpoint failures are scheduled by
// hookrelay, not by asynq.
func NewDeliver(p Deliver, manualNonce string, processAt time.Time) *asynq.Task {
	b, _ := json.Marshal(p)
	opts := []asynq.Option{
		asynq.TaskID(GroupTaskID(p, manualNonce)),
		asynq.Queue(QueueDeliveries),
		asynq.MaxRetry(10),
		asynq.Timeout(5 * time.Minute),
	}
	if !processAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(processAt))
	}
	return asynq.NewTask(TypeDeliver, b, opts...)
}

// ParseDeliver decodes a TypeDeliver payload; a bad one is not retried.
func ParseDeliver(t *asynq.Task) (Deliver, error) {
	var p Deliver
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID == "" || p.Attempt < 1 || slices.Contains(p.More, "") {
		return p, fmt.Errorf("task: bad %s payload %q: %w", TypeDeliver, t.Payload(), asynq.SkipRetry)
	}
	return p, nil
}

// BulkRedeliver is the payload of TypeBulkRedeliver.
type BulkRedeliver struct {
	JobID string `json:"j"`
	// Cursor is the job's cursor (last delivery id done) this step expects;
	// a step that finds another cursor is stale, like a claimed attempt.
	Cursor string `json:"c,omitempty"`
}

// NewBulkRedeliver builds a step of a bulk job due at processAt (zero:
// now). The task id names the job and the cursor, so a step enqueued twice
// is one task; the job's progress is in Postgres, so a lost or repeated
// step only delays the job.
func NewBulkRedeliver(p BulkRedeliver, processAt time.Time) *asynq.Task {
	b, _ := json.Marshal(p)
	opts := []asynq.Option{
		asynq.TaskID("bulk/" + p.JobID + "/" + cmp.Or(p.Cursor, "start")),
		asynq.Queue(QueueDeliveries),
		asynq.MaxRetry(10),
		asynq.Timeout(5 * time.Minute),
	}
	if !processAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(processAt))
	}
	return asynq.NewTask(TypeBulkRedeliver, b, opts...)
}

// ParseBulkRedeliver decodes a TypeBulkRedeliver payload; a bad one is not retried.
func ParseBulkRedeliver(t *asynq.Task) (BulkRedeliver, error) {
	var p BulkRedeliver
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.JobID == "" {
		return p, fmt.Errorf("task: bad %s payload %q: %w", TypeBulkRedeliver, t.Payload(), asynq.SkipRetry)
	}
	return p, nil
}

// retentionUnique is how long an enqueued maintenance run blocks another:
// every worker replica's scheduler enqueues one per tick and at start, and
// they collapse into one. The lock goes when the run finishes.
const retentionUnique = 50 * time.Minute

// NewRetention builds a TypeRetention task. It has no payload: the policy
// is the worker's configuration.
func NewRetention() *asynq.Task {
	return asynq.NewTask(TypeRetention, nil,
		asynq.Queue(QueueDeliveries),
		asynq.Unique(retentionUnique),
		asynq.MaxRetry(3),
		asynq.Timeout(30*time.Minute),
	)
}
