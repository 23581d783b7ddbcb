package baton_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestValidEmail: one plain address, within the lengths mail carries.
func TestValidEmail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 65)
	for s, want := range map[string]bool{
		"ana@example.com":                        true,
		strings.Repeat("a", 64) + "@ex.com":      true,
		long + "@example.com":                    false, // over 64 before the @
		"a@" + strings.Repeat("b", 250) + ".com": false, // over 254 in all
		"Ana <ana@example.com>":                  false,
		"ana@example.com, bob@example.com":       false,
		"not an address":                         false,
	} {
		if got := baton.ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%.40q) = %v, want %v", s, got, want)
		}
	}
}

// TestCustomerLimits refuses a customer too large to show, naming the field.
func TestCustomerLimits(t *testing.T) {
	t.Parallel()
	many := map[string]any{}
	for i := range baton.MaxMetadata + 1 {
		many[strings.Repeat("k", i+1)] = i
	}
	for field, c := range map[string]baton.Customer{
		"customer.id":       {ID: strings.Repeat("i", baton.MaxExternalID+1)},
		"customer.name":     {ID: "c", Name: strings.Repeat("é", baton.MaxName+1)},
		"customer.metadata": {ID: "c", Metadata: many},
	} {
		r := baton.CreateRequest{ExternalID: "x", Customer: c, Question: "q"}
		if err := r.Valid(); baton.ErrorField(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	for name, md := range map[string]map[string]any{
		"a long key":    {strings.Repeat("k", baton.MaxMetadataKey+1): 1},
		"a large value": {"k": strings.Repeat("v", baton.MaxMetadataLen)},
	} {
		r := baton.CreateRequest{ExternalID: "x", Customer: baton.Customer{ID: "c", Metadata: md}, Question: "q"}
		if err := r.Valid(); baton.ErrorField(err) != "customer.metadata" {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok := baton.CreateRequest{ExternalID: "x", Customer: baton.Customer{ID: "c", Name: strings.Repeat("é", baton.MaxName), Metadata: map[string]any{"plan": "pro"}}, Question: "q"}
	if err := ok.Valid(); err != nil {
		t.Errorf("a customer within the limits: %v", err)
	}
	if err := baton.ValidMessage("", []baton.Attachment{{URL: "https://"}}); baton.ErrorField(err) != "attachments[0].url" {
		t.Errorf("an attachment URL without a host: %v", err)
	}
}
