package kubeadm

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		wantErr string
	}{
		{"v1.37.2", ""},
		{"v1.31.0", ""},
		{"v1.30.9", "v1beta3"},
		{"v1.22.0", "v1beta3"},
		{"v1.21.14", "before 1.22"},
		{"v1.16.0", "before 1.22"},
		{"1.37.2", "not a version"},
		{"latest", "not a version"},
	}
	for _, tt := range tests {
		err := CheckVersion(tt.version)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.version)
			continue
		}
		if assert.Error(t, err, tt.version) {
			assert.Contains(t, err.Error(), tt.wantErr, tt.version)
		}
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	t.Parallel()
	c := thesisCluster()
	c.KubernetesVersion = "v1.29.0"
	c.ServiceSubnet = netip.MustParsePrefix("10.244.0.0/20")
	c.Workers = append(c.Workers, Node{Name: "node01", Address: netip.MustParseAddr("192.168.20.9")}, Node{Name: "Bad_Name"})
	err := c.Validate()
	if assert.Error(t, err) {
		for _, want := range []string{"v1beta3", "overlaps", `node "node01": listed twice`, `node "Bad_Name"`} {
			assert.Contains(t, err.Error(), want)
		}
	}
	assert.NoError(t, thesisCluster().Validate())

	_, err = thesisCluster().JoinConfig("master01", testSecrets)
	assert.ErrorContains(t, err, "runs init")
	_, err = thesisCluster().JoinConfig("node09", testSecrets)
	assert.ErrorContains(t, err, "not part of the cluster")
}
