// Command mkimg writes a docker-save style image tarball without a registry,
// using go-containerregistry: files (and optionally a rootfs tar) become
// layers, and the config gets OS/arch, PATH, entrypoint and command. Its
// output is accepted by `ctr images import` and `docker load`.
//
//	mkimg -o out.tar -t registry.local/k8s/pause:3.10.2 -f bin/pause:/pause:0755 -entrypoint /pause
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimg:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkimg", flag.ContinueOnError)
	out := fs.String("o", "", "output tarball")
	tag := fs.String("t", "", "image reference, e.g. registry.local/k8s/pause:3.10.2")
	entry := fs.String("entrypoint", "", "entrypoint (space separated)")
	cmd := fs.String("cmd", "", "command (space separated)")
	var files, layers list
	fs.Var(&files, "f", "SRC:DST:MODE file to add (repeatable)")
	fs.Var(&layers, "layer", "tar file added as a base layer (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *tag == "" {
		return errors.New("-o and -t are required")
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", *tag, err)
	}
	img := empty.Image
	for _, l := range layers {
		layer, err := tarball.LayerFromFile(l)
		if err != nil {
			return fmt.Errorf("layer %q: %w", l, err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	if len(files) > 0 {
		data, err := tarFiles(files)
		if err != nil {
			return err
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		if err != nil {
			return err
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if *entry != "" {
		cf.Config.Entrypoint = strings.Fields(*entry)
	}
	if *cmd != "" {
		cf.Config.Cmd = strings.Fields(*cmd)
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	return tarball.WriteToFile(*out, ref, img)
}

// tarFiles builds one layer from SRC:DST:MODE specs, with parent directories.
func tarFiles(specs []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, s := range specs {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("file %q: want SRC:DST:MODE", s)
		}
		mode, err := strconv.ParseInt(parts[2], 8, 64)
		if err != nil {
			return nil, fmt.Errorf("file %q: mode: %w", s, err)
		}
		data, err := os.ReadFile(parts[0])
		if err != nil {
			return nil, err
		}
		dst := strings.TrimPrefix(parts[1], "/")
		for i := 0; i < len(dst); i++ {
			if dst[i] == '/' && !dirs[dst[:i]] {
				dirs[dst[:i]] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dst[:i] + "/", Mode: 0o755}); err != nil {
					return nil, err
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: mode, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
