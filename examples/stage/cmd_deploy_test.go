package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNameFromImage(t *testing.T) {
	t.Parallel()
	for image, want := range map[string]string{
		"registry.local/team/nginx:1.27":  "nginx",
		"busybox":                         "busybox",
		"localhost:5000/My_App@sha256:ab": "my-app",
		"::":                              "workload",
	} {
		assert.Equal(t, want, nameFromImage(image), image)
	}
}

func TestDeployNeedsImage(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"deploy", "-f", "x.yaml"}, &out, &errOut)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut.String(), "--image IMAGE is required")
}
