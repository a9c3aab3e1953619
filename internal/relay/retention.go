package relay

import (
	"context"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// Retention defaults.
const (
	DefaultRetention = 30 * 24 * time.Hour
	DefaultDaysAhead = 7
)

// retentionBatch bounds each delete or update statement of a run; a run
// repeats them until nothing is left.
const retentionBatch = 5000

// RetentionPolicy is how long hookrelay keeps what it stored.
type RetentionPolicy struct {
	// Retention is how long events, their deliveries and attempts are kept
	// (HOOKRELAY_RETENTION; default 30 days). Whole UTC days are dropped,
	// so a row lives between Retention and Retention + 1 day.
	Retention time.Duration
	// PayloadRetention is how long event bodies are kept
	// (HOOKRELAY_PAYLOAD_RETENTION; default and at most Retention). Older
	// events keep their metadata and show "payload expired".
	PayloadRetention time.Duration
	// DaysAhead is how many days of partitions after today exist ahead of
	// time (default 7).
	DaysAhead int
}

func (p RetentionPolicy) withDefaults() RetentionPolicy {
	if p.Retention <= 0 {
		p.Retention = DefaultRetention
	}
	if p.PayloadRetention <= 0 || p.PayloadRetention > p.Retention {
		p.PayloadRetention = p.Retention
	}
	if p.DaysAhead <= 0 {
		p.DaysAhead = DefaultDaysAhead
	}
	return p
}

// RetentionReport is what one run did.
type RetentionReport struct {
	Created           []string // partitions created ahead (or late)
	Moved             int64    // rows moved out of default partitions into them
	Dropped           []string // expired partitions dropped
	PayloadPartitions []string // partitions whose payloads were emptied
	PayloadsDropped   int64    // events whose payload was emptied
	DefaultDeleted    int64    // expired rows deleted from default partitions
	DeliveriesDeleted int64
	KeysTrimmed       int64
	RejectedDeleted   int64 // rejected ingest requests past the retention
}

// RunRetention is the maintenance task: it creates today's and the next
// DaysAhead days' partitions, drops whole partitions older than the
// retention (and the deliveries, deduplication keys and rejected requests
// of that time), and
// empties payloads older than the payload retention. It never scans a
// whole table: partitions are dropped or, for payloads, rewritten once;
// deliveries, keys and stray default-partition rows go in bounded
// index-range batches. It is idempotent, and safe to run concurrently
// (partition DDL takes an advisory lock), so a failed run is simply
// retried. Time comes from the relay's clock.
func (r *Relay) RunRetention(ctx context.Context, p RetentionPolicy) (RetentionReport, error) {
	p = p.withDefaults()
	now := r.Now()
	var rep RetentionReport
	// Everything received before cutoff goes: the start of the UTC day
	// that contains now - Retention, so a day partition goes as a whole
	// and deliveries, keys and default rows go with it.
	cutoff := store.Day(now.Add(-p.Retention))
	payloadCutoff := store.Day(now.Add(-p.PayloadRetention))
	tables := []string{store.TableEvents, store.TableAttempts}

	for _, table := range tables {
		for d := range p.DaysAhead + 1 {
			created, moved, err := r.st.CreatePartition(ctx, table, now.AddDate(0, 0, d))
			if err != nil {
				return rep, err
			}
			if created {
				rep.Created = append(rep.Created, store.PartitionName(table, now.AddDate(0, 0, d)))
				rep.Moved += moved
			}
		}
	}
	// Deliveries first: a delivery never outlives its event.
	n, err := batches(ctx, func() (int64, error) { return r.st.DeleteDeliveriesBefore(ctx, cutoff, retentionBatch) })
	rep.DeliveriesDeleted = n
	if err != nil {
		return rep, err
	}
	for _, table := range tables {
		parts, err := r.st.Partitions(ctx, table)
		if err != nil {
			return rep, err
		}
		for _, part := range parts {
			if part.End().After(cutoff) {
				break // oldest first: the rest are newer
			}
			if err := r.st.DropPartition(ctx, part); err != nil {
				return rep, err
			}
			rep.Dropped = append(rep.Dropped, part.Name)
		}
		n, err := batches(ctx, func() (int64, error) {
			return r.st.DeleteDefaultBefore(ctx, table, cutoff, retentionBatch)
		})
		rep.DefaultDeleted += n
		if err != nil {
			return rep, err
		}
	}
	if rep.KeysTrimmed, err = batches(ctx, func() (int64, error) {
		return r.st.TrimEventKeys(ctx, cutoff, retentionBatch)
	}); err != nil {
		return rep, err
	}
	if rep.RejectedDeleted, err = batches(ctx, func() (int64, error) {
		return r.st.DeleteRejectedBefore(ctx, cutoff, retentionBatch)
	}); err != nil {
		return rep, err
	}
	if err := r.dropPayloads(ctx, payloadCutoff, cutoff, now, &rep); err != nil {
		return rep, err
	}
	r.log.Info("retention_done", "created", len(rep.Created), "dropped", len(rep.Dropped),
		"dropped_partitions", rep.Dropped, "payload_partitions", rep.PayloadPartitions,
		"payloads_dropped", rep.PayloadsDropped, "default_rows_deleted", rep.DefaultDeleted,
		"default_rows_moved", rep.Moved, "deliveries_deleted", rep.DeliveriesDeleted, "keys_trimmed", rep.KeysTrimmed, "rejected_deleted", rep.RejectedDeleted,
		"cutoff", cutoff, "payload_cutoff", payloadCutoff)
	return rep, nil
}

// dropPayloads empties the bodies of events received before payloadCutoff
// (and not already dropped with their partition): one UPDATE per day
// partition, once, and bounded batches in the default partition.
func (r *Relay) dropPayloads(ctx context.Context, payloadCutoff, cutoff, now time.Time, rep *RetentionReport) error {
	if !payloadCutoff.After(cutoff) {
		return nil // payloads go with their events
	}
	done, err := r.st.PayloadExpired(ctx)
	if err != nil {
		return err
	}
	parts, err := r.st.Partitions(ctx, store.TableEvents)
	if err != nil {
		return err
	}
	for _, part := range parts {
		if part.End().After(payloadCutoff) {
			break
		}
		if done[part.Name] {
			continue
		}
		n, err := r.st.DropPartitionPayloads(ctx, part, now)
		if err != nil {
			return err
		}
		rep.PayloadPartitions = append(rep.PayloadPartitions, part.Name)
		rep.PayloadsDropped += n
	}
	n, err := batches(ctx, func() (int64, error) {
		return r.st.DropDefaultPayloads(ctx, payloadCutoff, retentionBatch)
	})
	rep.PayloadsDropped += n
	return err
}

// batches runs one bounded statement until it affects fewer rows than a
// batch, and returns the total.
func batches(ctx context.Context, step func() (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := step()
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// ScheduleRetention enqueues one maintenance run now (at worker start);
// the task is unique, so replicas starting together run it once.
func (r *Relay) ScheduleRetention(ctx context.Context) error {
	return r.enqueue(ctx, task.NewRetention())
}
