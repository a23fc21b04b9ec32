//go:build ignore

// gen_blocklist writes blocklist.txt: common passwords and the patterns people build long
// passwords from, in the canonical form the policy compares (case-folded, no spaces or
// '-', '_', '.'). Built from well-known patterns only, with no download, so the list is
// reproducible: `go generate ./server/password` (TestBlocklistIsGenerated checks it).
//
// Composed entries are kept from 8 characters up (the minimum can be configured down to
// NIST's 8); the plain words are kept at any length, because the policy compares the core of
// a password too ("Qwerty123!" -> "qwerty").
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Frequent entries of public common-password lists and the words they are built from.
var words = strings.Fields(`
password passw0rd p@ssword p@ssw0rd passwort motdepasse contrasena senha wachtwoord
qwerty qwertz azerty asdfgh zxcvbn qazwsx letmein welcome hello iloveyou trustno1 monkey
dragon baseball football soccer hockey basketball golf tennis master shadow sunshine princess
superman batman spiderman ironman starwars pokemon ninja mustang ferrari porsche harley
michael jennifer jordan hunter buster tigger charlie robert thomas daniel george andrew
joshua matthew anthony william jessica ashley amanda michelle nicole samantha sarah
elizabeth jonathan christopher maggie ginger pepper cookie snoopy garfield mickey minnie
whatever freedom access secret secure security login admin administrator root user guest
default changeme computer internet network server system windows linux apple google
facebook twitter youtube microsoft samsung summer winter spring autumn january february
march april june july august september october november december monday friday sunday
love lover loveme loveyou forever always angel angels heaven jesus christ god blessed
chelsea liverpool arsenal manchester united barcelona madrid juventus yankees cowboys
lakers eagles steelers patriots dolphins tigers lions bears bulldogs rangers
flower butterfly purple orange yellow silver golden diamond matrix killer cheese banana
chocolate coffee cookies pizza chicken dolphin tiger lion bear eagle falcon phoenix
mercedes bmw toyota honda corvette camaro harley jaguar thunder lightning storm
family friends friend happy smile lucky money rich business company office work
master1 qwerty1 letmein1 welcome1 password1 abc123 abcd1234 qwe123 zaq12wsx
trustme nothing someone anything everything pass test testing tester demo sample
magic wizard merlin gandalf hobbit frodo matrix neo morpheus zion
hello123 hellokitty kitty kitten puppy doggy doggie bailey buddy max molly daisy
jasmine sophie chloe emily olivia emma hannah lauren madison victoria alexander
benjamin nicholas brandon justin tyler austin kevin jason ryan eric steven richard
charles joseph david james john mark paul peter scott brian edward
exostar mag magdesktop magdesk magportal identity gateway portal
`)

// Long phrases that show up in breach corpora.
var phrases = []string{
	"correct horse battery staple", "the quick brown fox", "the quick brown fox jumps over the lazy dog",
	"may the force be with you", "to be or not to be", "let me in", "open sesame", "i love you",
	"i love you forever", "i love my family", "i love my kids", "i love my wife", "i love my husband",
	"i love my dog", "i love my cat", "i love jesus", "jesus loves me", "god is good", "god is love",
	"one two three four five", "this is my password", "my password is", "my password",
	"change me please", "please let me in", "welcome to the jungle", "hello world", "live laugh love",
	"never give up", "just do it", "i am the best", "you only live once", "carpe diem",
	"password password", "secret password", "super secret", "top secret", "not a password",
	"trust no one", "let me in now", "winter is coming", "all work and no play",
	"never gonna give you up", "a b c d e f g h", "abcdefghijklmnopqrstuvwxyz",
	"one direction", "harry potter", "star wars", "game of thrones", "lord of the rings",
}

// Keyboard walks and number patterns (sequences and repetitions are also caught by rule).
var walks = []string{
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertyuiopasdfghjkl", "qwertyuiopasdfghjklzxcvbnm",
	"1qaz2wsx", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "1qaz2wsx3edc4rfv5tgb", "qazwsxedc",
	"qazwsxedcrfv", "qazwsxedcrfvtgb", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u8i",
	"q1w2e3r4", "q1w2e3r4t5", "q1w2e3r4t5y6", "zaq12wsx", "zaq1xsw2", "1234qwer", "qwer1234",
	"1234asdf", "asdf1234", "123qwe", "qweasdzxc", "qweasd", "zxcasdqwe", "!qaz@wsx",
	"1qazxsw2", "2wsx3edc", "poiuytrewq", "lkjhgfdsa", "mnbvcxz", "qwertyuiop123",
	"123456789", "1234567890", "0987654321", "987654321", "11111111", "123123123",
	"12341234", "147258369", "159753", "159753456", "741852963", "789456123", "123654789",
	"112233", "11223344", "1122334455", "121212", "12121212", "696969", "666666", "7777777",
	"88888888", "99999999", "00000000", "31415926", "314159265358979", "2718281828",
}

// Prefixes and suffixes people wrap around a word to reach a length requirement.
var (
	prefixes = []string{"i love ", "i love my ", "my ", "my name is ", "this is my ", "welcome to ", "go ", "the ", "ilove", "happy "}
	suffixes = []string{" forever", " rocks", " is the best", " password", " lover", " love", " fan", " for life", " and me", " number one"}
)

func canon(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

func main() {
	out := flag.String("o", "blocklist.txt", "output file, - for standard output")
	flag.Parse()
	set := map[string]bool{}
	add := func(s string) {
		if c := canon(s); len([]rune(c)) >= 8 {
			set[c] = true
		}
	}
	for _, w := range append(append(words, walks...), phrases...) {
		set[canon(w)] = true // short ones too: the policy also compares a password's core
	}
	for _, w := range words {
		add(w + w)
		add(w + w + w)
		for _, p := range prefixes {
			add(p + w)
		}
		for _, s := range suffixes {
			add(w + s)
		}
		for _, v := range words[:12] {
			add(w + v) // two common words glued: "monkeydragon"
		}
	}
	for _, p := range append(phrases, walks...) {
		add(p)
		add(p + p)
	}
	list := make([]string, 0, len(set))
	for s := range set {
		list = append(list, s)
	}
	slices.Sort(list)

	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	for _, s := range list {
		fmt.Fprintln(bw, s)
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
