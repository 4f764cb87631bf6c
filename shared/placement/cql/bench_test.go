package cql

import "testing"

// BenchmarkEval decides one instance per operation for expressions of each
// kind; compile cost is excluded.
func BenchmarkEval(b *testing.B) {
	for _, c := range []struct{ name, expr string }{
		{"equals", "attribute:ecs.instance-type == t2.small"},
		{"in", "attribute:ecs.instance-type in [m5.large, m5.xlarge, c5.xlarge, t2.small]"},
		{"matches", "attribute:ecs.instance-type =~ t2.*"},
		{"compound", "attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d and not(task:group == database)"},
		{"agentVersion", "agentVersion < 1.14.5"},
		{"registeredAt", "registeredAt < 2018-06-18"},
	} {
		e, err := Compile(c.expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			hits := 0
			for b.Loop() {
				if e.Eval(t2) {
					hits++
				}
			}
			if hits == 0 {
				b.Fatalf("%q never matched", c.expr)
			}
		})
	}
}

// BenchmarkCompile parses and checks a typical constraint.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone in [us-east-1a, us-east-1b] and not(task:group == database)"); err != nil {
			b.Fatal(err)
		}
	}
}
