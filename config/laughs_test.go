package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// laughs is a billion-laughs file that fits the schema: workspaces of
// desks of periods of days, each level a list of n aliases of the level
// below, so that a small file stands for n^4 days.
func laughs(n int) string {
	rep := func(s string) string { return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ") }
	var b strings.Builder
	fmt.Fprintf(&b, "workspaces:\n  - id: w0\n    desks:\n      - id: d0\n        kind: inbox\n        policy:\n          periods:\n")
	fmt.Fprintf(&b, "            - {kind: weekly, start: \"09:00\", end: \"10:00\", days: &days [%s]}\n", rep("mon"))
	fmt.Fprintf(&b, "            - &period {kind: weekly, start: \"09:00\", end: \"10:00\", days: *days}\n")
	fmt.Fprintf(&b, "      - &desk {id: d1, kind: inbox, policy: {periods: [%s]}}\n", rep("*period"))
	fmt.Fprintf(&b, "  - &ws {id: w1, desks: [%s]}\n", rep("*desk"))
	for i := range n {
		fmt.Fprintf(&b, "  - *ws # %d\n", i)
	}
	return b.String()
}

// TestConfigAliasLimits: a billion-laughs file (under 2 KB standing for n^4
// values) is refused at once with the alias and its line, an oversized file
// before it is parsed, while aliases that repeat a part of the file are read.
func TestConfigAliasLimits(t *testing.T) {
	t.Parallel()
	reused := `
workspaces:
  - id: acme
    desks:
      - {id: a, kind: inbox, policy: &hours {zone: Europe/Paris, periods: [{kind: weekly, days: &week [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}]}}
      - {id: b, kind: inbox, policy: *hours}
      - {id: c, kind: inbox, policy: {zone: UTC, periods: [{kind: weekly, days: *week, start: "08:00", end: "12:00"}]}}
`
	tests := []struct {
		name string
		doc  string
		want string // "" means no error
	}{
		{"aliases that repeat", reused, ""},
		{"billion laughs", laughs(40),
			"workspaces[1].desks[4].policy.periods[20].days[29] (line 11): the YAML alias *desk (line 11) takes the aliases of the file past 10000 values: aliases may repeat a part of the file, not multiply it"},
		{"billion laughs, wider", laughs(300), "the YAML alias *"},
		{"over 1 MiB", "workspaces: []\n" + strings.Repeat("# padding\n", maxBytes/10+1),
			"config: the file is larger than 1048576 bytes (1 MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := parse(tt.doc)
			took := time.Since(start)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("parse: %v", err)
			case tt.want == "":
				if p := c.Workspaces[0].Desks[1].Policy; p == nil || p.Zone != "Europe/Paris" || len(p.Periods[0].Days) != 5 {
					t.Errorf("the aliased policy read as %+v", p)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("parse(%d bytes) = %v, want %q", len(tt.doc), err, tt.want)
			}
			if took > 2*time.Second {
				t.Errorf("took %v on %d bytes", took, len(tt.doc))
			}
		})
	}
}
