package placement

// Place chooses an instance for each of req.Count copies of a task, one
// after another, each seeing the resources, ports and task groups the
// earlier ones took. Instances are identified by their position in
// instances, which is also the final tie-break. A task that fits nowhere
// ends the placement: it and the tasks after it are Unplaced, and the
// result says why each instance refused it.
//
// An invalid request is an *ecs.Error (InvalidParameterException); see
// Validate.
func Place(instances []Instance, req Request) (Result, error) {
	p, err := compileRequest(req)
	if err != nil {
		return Result{}, err
	}
	e := newEngine(instances, p)
	var res Result
	for t := 0; t < p.count; t++ {
		i := e.pick()
		if i < 0 {
			res.Unplaced = p.count - t
			res.Rejections, res.Closest = e.rejections()
			break
		}
		e.place(i)
		res.Placements = append(res.Placements, Placement{Index: i, ARN: instances[i].ARN})
	}
	return res, nil
}

// rejections lists why every instance refuses the next task, and the one
// that got furthest through the filters.
func (e *engine) rejections() ([]Rejection, *Rejection) {
	if len(e.in) == 0 {
		return nil, nil
	}
	out := make([]Rejection, len(e.in))
	closest := -1
	for i := range e.in {
		out[i] = Rejection{Index: i, ARN: e.in[i].ARN, ID: e.in[i].ID, Reason: e.reason(i)}
		if closest < 0 || reasonStage[out[i].Reason] > reasonStage[out[closest].Reason] {
			closest = i
		}
	}
	c := out[closest]
	return out, &c
}
