package kubeadm

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/jsonpath"
)

// kubectlJSONPath renders obj the way `kubectl get -o jsonpath=TEMPLATE`
// does: client-go's jsonpath, missing keys allowed, over the object's JSON
// form (cli-runtime's JSONPathPrinter). The fake hosts answer with strings
// typed into the tests; this checks that the templates really produce them
// from API objects.
func kubectlJSONPath(t *testing.T, template string, obj any) string {
	t.Helper()
	j := jsonpath.New("out")
	j.AllowMissingKeys(true)
	require.NoError(t, j.Parse(template))
	raw, err := json.Marshal(obj)
	require.NoError(t, err)
	var query any
	require.NoError(t, json.Unmarshal(raw, &query))
	var out bytes.Buffer
	require.NoError(t, j.Execute(&out, query))
	return out.String()
}

func TestPodsJSONPathOnAPIObjects(t *testing.T) {
	t.Parallel()
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
	notReady := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse}
	gone := metav1.NewTime(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	pod := func(name string, spec corev1.PodSpec, status corev1.PodStatus) corev1.Pod {
		return corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec, Status: status}
	}
	old := pod("nginx-old", corev1.PodSpec{NodeName: "node02"}, corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.4.9",
		Conditions: []corev1.PodCondition{ready}})
	old.DeletionTimestamp = &gone
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "List", APIVersion: "v1"}, Items: []corev1.Pod{
		pod("nginx-b", corev1.PodSpec{NodeName: "node02"}, corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.4.2",
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, ready},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}),
		pod("nginx-c", corev1.PodSpec{NodeName: "node03"}, corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, notReady},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull",
					Message: "Container image is not present with pull policy of Never"}}}}}),
		pod("nginx-d", corev1.PodSpec{}, corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
				Message: "0/7 nodes are available: 4 node(s) didn't match pod topology spread constraints."}}}),
		old,
	}}
	got := parsePods(kubectlJSONPath(t, deploymentPodsJSONPath, list))
	assert.Equal(t, []PodReport{
		{Pod: "nginx-d", Phase: "Pending", Reason: "0/7 nodes are available: 4 node(s) didn't match pod topology spread constraints."},
		{Pod: "nginx-b", Node: "node02", PodIP: "10.244.4.2", Phase: "Running", Ready: true},
		{Pod: "nginx-c", Node: "node03", Phase: "Pending", Reason: "ErrImageNeverPull"},
	}, got, "the terminating nginx-old is left out")
}

func TestDeploymentStatusJSONPathOnAPIObjects(t *testing.T) {
	t.Parallel()
	dep := func(generation, observed int64, total, updated, ready int32) appsv1.Deployment {
		return appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "nginx", Generation: generation},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: total, UpdatedReplicas: updated, ReadyReplicas: ready}}
	}
	tests := []struct {
		name string
		dep  appsv1.Deployment
		want bool
	}{
		{"rolled out", dep(2, 2, 4, 4, 4), true},
		{"not observed yet", dep(2, 1, 4, 4, 4), false},
		{"old replica left", dep(2, 2, 5, 4, 4), false},
		{"not all ready", dep(2, 2, 4, 4, 3), false},
		{"just created, no status", dep(1, 0, 0, 0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, parseRollout(kubectlJSONPath(t, deploymentStatusJSONPath, tt.dep), 4))
		})
	}
}
