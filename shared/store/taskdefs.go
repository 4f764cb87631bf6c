package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
)

// taskDefinitionRecord is a registered revision and its tags.
type taskDefinitionRecord struct {
	TaskDefinition ecs.TaskDefinition `json:"taskDefinition"`
	Tags           []ecs.Tag          `json:"tags,omitempty"`
}

// familyRecord tracks a family's revisions: the latest number issued and
// how many are ACTIVE (a family with none is INACTIVE).
type familyRecord struct {
	Family string `json:"family"`
	Latest int    `json:"latest"`
	Active int    `json:"active"`
}

func (db *DB) tdItem(rec taskDefinitionRecord, expect int64) (Write, error) {
	td := rec.TaskDefinition
	w, err := putWrite(taskDefinitionKey(td.Family, td.Revision), rec, expect)
	w.Item.GSI1 = taskDefinitionStatusKey(td.Status, td.Family, td.Revision)
	return w, err
}

// RegisterTaskDefinition stores td (already validated and normalized by
// ecs.PrepareTaskDefinition) as the family's next revision, starting at 1.
func (db *DB) RegisterTaskDefinition(ctx context.Context, td ecs.TaskDefinition, tags []ecs.Tag) (ecs.TaskDefinition, error) {
	var out ecs.TaskDefinition
	err := retry(ctx, "register task definition "+td.Family, func() error {
		var fam familyRecord
		famVersion, err := db.getJSON(ctx, familyKey(td.Family), &fam)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		fam.Family = td.Family
		fam.Latest++
		fam.Active++
		rec := taskDefinitionRecord{TaskDefinition: td, Tags: tags}
		rec.TaskDefinition.Revision = fam.Latest
		rec.TaskDefinition.TaskDefinitionArn = db.acct.TaskDefinitionARN(td.Family, fam.Latest)
		rec.TaskDefinition.Status = ecs.TaskDefinitionActive
		rec.TaskDefinition.RegisteredAt = db.stamp()
		tdw, err := db.tdItem(rec, 0)
		if err != nil {
			return err
		}
		fw, err := putWrite(familyKey(td.Family), fam, famVersion)
		if err != nil {
			return err
		}
		out = rec.TaskDefinition
		return db.s.Transact(ctx, []Write{fw, tdw})
	})
	return out, err
}

// errNoTaskDefinition is ECS's answer for an unknown task definition.
func errNoTaskDefinition(ref string) error {
	return ecs.Client("Unable to describe task definition %q: it does not exist.", ref)
}

// TaskDefinition resolves a family (latest ACTIVE revision), family:revision
// or ARN to the stored revision and its tags.
func (db *DB) TaskDefinition(ctx context.Context, ref ecs.TaskDefinitionRef) (ecs.TaskDefinition, []ecs.Tag, error) {
	if ref.Revision > 0 {
		rec, _, err := db.existingTaskDefinition(ctx, ref.Family, ref.Revision)
		return rec.TaskDefinition, rec.Tags, err
	}
	q := Query{PK: taskDefinitionPK(ref.Family), Prefix: "R#", Reverse: true, Limit: 25}
	for {
		items, next, err := db.s.Query(ctx, q)
		if err != nil {
			return ecs.TaskDefinition{}, nil, err
		}
		for _, it := range items {
			rec, err := decode[taskDefinitionRecord](it)
			if err != nil {
				return ecs.TaskDefinition{}, nil, err
			}
			if rec.TaskDefinition.Status == ecs.TaskDefinitionActive {
				return rec.TaskDefinition, rec.Tags, nil
			}
		}
		if next == "" {
			return ecs.TaskDefinition{}, nil, errNoTaskDefinition(ref.String())
		}
		q.Cursor = next
	}
}

func (db *DB) taskDefinitionRecord(ctx context.Context, family string, revision int) (taskDefinitionRecord, int64, error) {
	var rec taskDefinitionRecord
	v, err := db.getJSON(ctx, taskDefinitionKey(family, revision), &rec)
	return rec, v, err
}

// existingTaskDefinition is taskDefinitionRecord answering a missing
// revision with ECS's ClientException.
func (db *DB) existingTaskDefinition(ctx context.Context, family string, revision int) (taskDefinitionRecord, int64, error) {
	rec, v, err := db.taskDefinitionRecord(ctx, family, revision)
	if errors.Is(err, ErrNotFound) {
		err = errNoTaskDefinition(ecs.TaskDefinitionRef{Family: family, Revision: revision}.String())
	}
	return rec, v, err
}

// ListTaskDefinitions pages through task definition ARNs with the given
// status (ACTIVE by default), optionally of one family, ordered by family
// and revision (descending when desc).
func (db *DB) ListTaskDefinitions(ctx context.Context, family, status string, desc bool, token string, maxResults *int) (Page, error) {
	limit, err := pageLimit(maxResults, 100, 100)
	if err != nil {
		return Page{}, err
	}
	prefix := status + "#"
	if family != "" {
		prefix += family + "#"
	}
	items, next, err := db.scan(ctx, Query{Index: GSI1, PK: pkTDStatus, Prefix: prefix, Reverse: desc}, token, limit,
		func(Item) (bool, error) { return true, nil })
	if err != nil {
		return Page{}, err
	}
	page := Page{NextToken: next, Items: []string{}}
	for _, it := range items {
		page.Items = append(page.Items, arnFromStatusKey(db.acct, it.GSI1.SK))
	}
	return page, nil
}

// arnFromStatusKey turns "<status>#<family>#<rev:10>" into the revision's ARN.
func arnFromStatusKey(a ecs.Account, sk string) string {
	parts := strings.Split(sk, "#")
	rev, _ := strconv.Atoi(parts[len(parts)-1])
	return a.TaskDefinitionARN(parts[1], rev)
}

// ListTaskDefinitionFamilies pages through family names starting with
// prefix; status ACTIVE keeps families with an ACTIVE revision, INACTIVE
// those without, "" or ALL keeps both.
func (db *DB) ListTaskDefinitionFamilies(ctx context.Context, prefix, status, token string, maxResults *int) (Page, error) {
	limit, err := pageLimit(maxResults, 100, 100)
	if err != nil {
		return Page{}, err
	}
	items, next, err := db.scan(ctx, Query{PK: pkFamilies, Prefix: prefix}, token, limit, func(it Item) (bool, error) {
		fam, err := decode[familyRecord](it)
		switch status {
		case ecs.TaskDefinitionActive:
			return fam.Active > 0, err
		case ecs.TaskDefinitionInactive:
			return fam.Active == 0, err
		}
		return true, err
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{NextToken: next, Items: []string{}}
	for _, it := range items {
		page.Items = append(page.Items, it.SK)
	}
	return page, nil
}

// DeregisterTaskDefinition marks a revision INACTIVE; deregistering an
// INACTIVE revision returns it unchanged.
func (db *DB) DeregisterTaskDefinition(ctx context.Context, family string, revision int) (ecs.TaskDefinition, error) {
	var out ecs.TaskDefinition
	ref := ecs.TaskDefinitionRef{Family: family, Revision: revision}.String()
	err := retry(ctx, "deregister task definition "+ref, func() error {
		rec, version, err := db.existingTaskDefinition(ctx, family, revision)
		if err != nil {
			return err
		}
		out = rec.TaskDefinition
		if rec.TaskDefinition.Status != ecs.TaskDefinitionActive {
			return nil
		}
		var fam familyRecord
		famVersion, err := db.getJSON(ctx, familyKey(family), &fam)
		if err != nil {
			return err
		}
		fam.Active--
		rec.TaskDefinition.Status = ecs.TaskDefinitionInactive
		rec.TaskDefinition.DeregisteredAt = db.stamp()
		tdw, err := db.tdItem(rec, version)
		if err != nil {
			return err
		}
		fw, err := putWrite(familyKey(family), fam, famVersion)
		if err != nil {
			return err
		}
		out = rec.TaskDefinition
		return db.s.Transact(ctx, []Write{fw, tdw})
	})
	return out, err
}

// DeleteTaskDefinition moves an INACTIVE revision to DELETE_IN_PROGRESS; an
// ACTIVE one is refused (it must be deregistered first).
func (db *DB) DeleteTaskDefinition(ctx context.Context, family string, revision int) (ecs.TaskDefinition, error) {
	var out ecs.TaskDefinition
	ref := ecs.TaskDefinitionRef{Family: family, Revision: revision}.String()
	err := retry(ctx, "delete task definition "+ref, func() error {
		rec, version, err := db.existingTaskDefinition(ctx, family, revision)
		if err != nil {
			return err
		}
		out = rec.TaskDefinition
		switch rec.TaskDefinition.Status {
		case ecs.TaskDefinitionActive:
			return ecs.Client("The specified task definition %s is ACTIVE; deregister it before deleting it.", ref)
		case ecs.TaskDefinitionDeleteInProgress:
			return nil
		}
		rec.TaskDefinition.Status = ecs.TaskDefinitionDeleteInProgress
		rec.TaskDefinition.DeleteRequestedAt = db.stamp()
		w, err := db.tdItem(rec, version)
		if err != nil {
			return err
		}
		out = rec.TaskDefinition
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// SetTaskDefinitionTags changes a revision's tags; change may return
// ErrUnchanged to write nothing.
func (db *DB) SetTaskDefinitionTags(ctx context.Context, family string, revision int, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	ref := ecs.TaskDefinitionRef{Family: family, Revision: revision}.String()
	return retry(ctx, "tag task definition "+ref, func() error {
		rec, version, err := db.taskDefinitionRecord(ctx, family, revision)
		if errors.Is(err, ErrNotFound) {
			return ecs.Errorf(ecs.ResourceNotFoundException, "The specified task definition %s does not exist.", ref)
		}
		if err != nil {
			return err
		}
		if rec.Tags, err = change(rec.Tags); err != nil {
			if errors.Is(err, ErrUnchanged) {
				return nil
			}
			return err
		}
		w, err := db.tdItem(rec, version)
		if err != nil {
			return err
		}
		return db.s.Transact(ctx, []Write{w})
	})
}
