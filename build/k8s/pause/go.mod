module github.com/planetstage/planetstage/build/k8s/pause

go 1.26.0
