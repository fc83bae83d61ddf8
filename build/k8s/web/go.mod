module github.com/planetstage/planetstage/build/k8s/web

go 1.26.0
