package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// pauseEndpoint holds the endpoint's deliveries (still created) until resume.
func (s *server) pauseEndpoint(c *fiber.Ctx) error {
	ep, err := s.Relay.PauseEndpoint(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.endpointView(ep))
}

// resumeEndpoint ends a pause and sends what it held.
func (s *server) resumeEndpoint(c *fiber.Ctx) error {
	ep, n, err := s.Relay.ResumeEndpoint(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"endpoint": s.endpointView(ep), "released": n})
}

// replayEndpoint counts (dry_run) or starts a replay of the events the
// endpoint missed; the job is read at /api/v1/bulk-jobs/:id.
func (s *server) replayEndpoint(c *fiber.Ctx) error {
	var in struct {
		Since         *time.Time `json:"since"`
		IncludeFailed bool       `json:"include_failed"`
		DryRun        bool       `json:"dry_run"`
	}
	if len(c.BodyRaw()) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	ri := relay.ReplayInput{IncludeFailed: in.IncludeFailed}
	if in.Since != nil {
		ri.Since = *in.Since
	}
	if in.DryRun {
		p, err := s.Relay.PreviewReplay(c.UserContext(), actor(c), c.Params("id"), ri)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"dry_run": true, "since": p.Since, "events": p.Events, "failed": p.Failed})
	}
	j, err := s.Relay.StartReplay(c.UserContext(), actor(c), c.Params("id"), ri)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(bulkJobView(j))
}

// getBulkJob reads a bulk job's progress (a replay or a bulk redelivery).
func (s *server) getBulkJob(c *fiber.Ctx) error {
	j, err := s.Relay.Store().GetBulkJob(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(bulkJobView(j))
}

// cancelBulkJob stops a running job before its next batch.
func (s *server) cancelBulkJob(c *fiber.Ctx) error {
	j, err := s.Relay.CancelBulk(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(bulkJobView(j))
}

type bulkJob struct {
	ID         string           `json:"id"`
	Kind       string           `json:"kind"`
	Status     string           `json:"status"`
	Total      int              `json:"total"`
	Done       int              `json:"done"`
	Filter     store.BulkFilter `json:"filter"`
	CreatedBy  string           `json:"created_by"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
	FinishedAt *time.Time       `json:"finished_at"`
}

func bulkJobView(j *store.BulkJob) bulkJob {
	return bulkJob{ID: j.ID, Kind: j.Kind, Status: j.Status, Total: j.Total, Done: j.Done, Filter: j.Filter,
		CreatedBy: j.CreatedBy, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, FinishedAt: j.FinishedAt}
}
