// A test suite for github.com/vimeo/go-magic, which ships none (neither
// upstream nor Debian's golang-github-vimeo-go-magic-dev). scripts/realworld
// copies this file into the package's directory and runs it like the other
// packages' own suites: plain, then under cgoguard. It drives every function
// of the package, so libmagic (Debian's libmagic1, built elsewhere) does its
// real work: loading the compiled database, typing buffers and files,
// decompressing (MAGIC_COMPRESS), compiling and checking a magic source file,
// error paths, and many cookies used from goroutines at once.
package magic

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type sample struct {
	name string
	data []byte
	desc string // substring of the MAGIC_NONE description
	mime string // MAGIC_MIME_TYPE
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func samples(t testing.TB) []sample {
	text := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog.\n", 40))
	exe, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa")
	return []sample{
		{"text", text, "ASCII text", "text/plain"},
		{"utf8", []byte("h\u00e9llo w\u00f6rld, \u00e7a va?\n"), "UTF-8 Unicode text", "text/plain"},
		{"script", []byte("#!/bin/sh\necho hello\nexit 0\n"), "shell script", "text/x-shellscript"},
		{"png", png, "PNG image data, 16 x 16", "image/png"},
		{"gzip", gz(t, text), "gzip compressed data", "application/gzip"},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n"), "PDF document, version 1.4", "application/pdf"},
		{"elf", exe[:64*1024], "ELF 64-bit LSB", "application/x-"},
		{"zeros", make([]byte, 4096), "data", "application/octet-stream"},
	}
}

func open(t testing.TB, flags int) Magic {
	c := Open(flags)
	if c == nil {
		t.Fatal("magic_open returned NULL")
	}
	if Load(c, "") != 0 {
		Close(c)
		t.Fatalf("magic_load(NULL): %s", Error(c))
	}
	return c
}

func TestBuffer(t *testing.T) {
	c := open(t, MAGIC_NONE)
	defer Close(c)
	for _, s := range samples(t) {
		got := Buffer(c, s.data)
		// libmagic 5.44 says "Unicode text, UTF-8 text" where older ones said
		// "UTF-8 Unicode text"
		if !strings.Contains(got, s.desc) && !(s.name == "utf8" && strings.Contains(got, "UTF-8")) {
			t.Errorf("%s: Buffer = %q, want it to contain %q", s.name, got, s.desc)
		}
	}
}

func TestBufferMimeAndEncoding(t *testing.T) {
	c := open(t, MAGIC_MIME_TYPE)
	defer Close(c)
	for _, s := range samples(t) {
		if got := Buffer(c, s.data); !strings.HasPrefix(got, s.mime) {
			t.Errorf("%s: mime = %q, want prefix %q", s.name, got, s.mime)
		}
	}
	if SetFlags(c, MAGIC_MIME_ENCODING) != 0 {
		t.Fatalf("SetFlags: %s", Error(c))
	}
	for name, want := range map[string]string{"text": "us-ascii", "utf8": "utf-8", "zeros": "binary"} {
		for _, s := range samples(t) {
			if s.name == name {
				if got := Buffer(c, s.data); got != want {
					t.Errorf("%s: encoding = %q, want %q", name, got, want)
				}
			}
		}
	}
	if SetFlags(c, MAGIC_MIME) != 0 {
		t.Fatalf("SetFlags: %s", Error(c))
	}
	if got := Buffer(c, []byte("plain words\n")); got != "text/plain; charset=us-ascii" {
		t.Errorf("MAGIC_MIME = %q", got)
	}
}

// MAGIC_COMPRESS: libmagic decompresses the buffer (with zlib, in the
// process) and types what is inside.
func TestCompressed(t *testing.T) {
	c := open(t, MAGIC_COMPRESS)
	defer Close(c)
	inner := []byte("#!/bin/sh\necho compressed\n")
	got := Buffer(c, gz(t, inner))
	if !strings.Contains(got, "shell script") || !strings.Contains(got, "gzip") {
		t.Errorf("compressed script: %q", got)
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	c := open(t, MAGIC_ERROR)
	defer Close(c)
	for _, s := range samples(t) {
		p := filepath.Join(dir, s.name+".bin")
		if err := os.WriteFile(p, s.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := File(c, p); !strings.Contains(got, s.desc) && s.name != "utf8" {
			t.Errorf("%s: File = %q, want it to contain %q", s.name, got, s.desc)
		}
		if got := MimeFromFile(p); !strings.HasPrefix(got, s.mime) {
			t.Errorf("%s: MimeFromFile = %q, want prefix %q", s.name, got, s.mime)
		}
		if got := MimeFromBytes(s.data); !strings.HasPrefix(got, s.mime) {
			t.Errorf("%s: MimeFromBytes = %q, want prefix %q", s.name, got, s.mime)
		}
	}
	if got := File(c, dir); got != "directory" {
		t.Errorf("File(dir) = %q", got)
	}
	if got := File(c, "/proc/self/exe"); !strings.Contains(got, "symbolic link") {
		t.Errorf("File(/proc/self/exe) = %q", got)
	}
}

func TestErrors(t *testing.T) {
	c := open(t, MAGIC_ERROR)
	defer Close(c)
	missing := filepath.Join(t.TempDir(), "does-not-exist")
	if got := File(c, missing); got != "" {
		t.Errorf("File(missing) = %q, want \"\" (NULL)", got)
	}
	if msg := Error(c); !strings.Contains(msg, "No such file") {
		t.Errorf("Error = %q", msg)
	}
	if Errno(c) != 2 {
		t.Errorf("Errno = %d, want ENOENT", Errno(c))
	}
	d := Open(MAGIC_NONE)
	defer Close(d)
	if Load(d, missing) == 0 {
		t.Errorf("Load(missing) succeeded")
	}
	if Error(d) == "" {
		t.Errorf("no error after a failed load")
	}
	if Check(d, missing) == 0 {
		t.Errorf("Check(missing) succeeded")
	}
}

// Many cookies used at once from goroutines (each cookie by one goroutine,
// as libmagic requires), opened and closed over and over.
func TestParallel(t *testing.T) {
	ss := samples(t)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 6; round++ {
				c := open(t, MAGIC_MIME_TYPE)
				for i := 0; i < 40; i++ {
					s := ss[(g+i)%len(ss)]
					if got := Buffer(c, s.data); !strings.HasPrefix(got, s.mime) {
						select {
						case errs <- s.name + ": " + got:
						default:
						}
					}
				}
				Close(c)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// Last: AddMagicDir makes every later MimeFrom* load only the added files.
func TestCompileAndAddMagicDir(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "cgoguard.magic")
	rules := "0\tstring\tCGOGUARD-REALWORLD\tcgoguard realworld sample\n" +
		"!:mime\tapplication/x-cgoguard-realworld\n" +
		">19\tstring\tv\t\\b, version\n" +
		">>20\tstring\tx\t%s\n"
	if err := os.WriteFile(src, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Open(MAGIC_NONE)
	if Check(c, src) != 0 {
		t.Fatalf("Check(%s): %s", src, Error(c))
	}
	Close(c)
	if err := AddMagicDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src + ".mgc"); err != nil {
		t.Fatalf("AddMagicDir did not compile %s: %v", src, err)
	}
	data := []byte("CGOGUARD-REALWORLD v42\npayload\n")
	if got := MimeFromBytes(data); got != "application/x-cgoguard-realworld" {
		t.Errorf("MimeFromBytes = %q", got)
	}
	p := filepath.Join(dir, "sample")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := MimeFromFile(p); got != "application/x-cgoguard-realworld" {
		t.Errorf("MimeFromFile = %q", got)
	}
	d := Open(MAGIC_NONE)
	defer Close(d)
	if Load(d, src+".mgc") != 0 {
		t.Fatalf("Load(%s.mgc): %s", src, Error(d))
	}
	if got := Buffer(d, data); !strings.HasPrefix(got, "cgoguard realworld sample, version 42") {
		t.Errorf("Buffer with the compiled file = %q", got)
	}
	if err := AddMagicDir(src); err == nil {
		t.Errorf("AddMagicDir(file) succeeded")
	}
}
