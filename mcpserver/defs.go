package mcpserver

import (
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/batonhq/baton"
)

// The function-calling formats Definitions writes.
const (
	FormatOpenAI    = "openai"    // Chat Completions and Responses tools
	FormatAnthropic = "anthropic" // Messages API tools
)

// OpenAITool is a tool as OpenAI's function calling defines one.
type OpenAITool struct {
	Type     string         `json:"type"` // always "function"
	Function OpenAIFunction `json:"function"`
}

// OpenAIFunction is the function of an OpenAITool.
type OpenAIFunction struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Parameters  *jsonschema.Schema `json:"parameters"`
}

// AnthropicTool is a tool as Anthropic's Messages API defines one.
type AnthropicTool struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	InputSchema *jsonschema.Schema `json:"input_schema"`
}

// Definitions writes tools in a function-calling format: a slice of
// OpenAITool or of AnthropicTool. Another format is EINVALID naming
// "format".
func Definitions(tools []Tool, format string) (any, error) {
	switch format {
	case FormatOpenAI:
		out := make([]OpenAITool, len(tools))
		for i, t := range tools {
			out[i] = OpenAITool{Type: "function", Function: OpenAIFunction{Name: t.Name, Description: t.Description, Parameters: t.Input}}
		}
		return out, nil
	case FormatAnthropic:
		out := make([]AnthropicTool, len(tools))
		for i, t := range tools {
			out[i] = AnthropicTool{Name: t.Name, Description: t.Description, InputSchema: t.Input}
		}
		return out, nil
	}
	return nil, baton.FieldErrorf("format", "must be %q or %q, not %q", FormatOpenAI, FormatAnthropic, format)
}
