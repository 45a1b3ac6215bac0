import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFloat, GoMap, GoSlice, GoStruct, sprintf, Template, type GoValue } from './index.js';

const data = new GoStruct('struct', {
  Labels: GoMap.ofStrings({ instance: 'host:9100', job: 'node' }),
  Value: 1000000,
  Items: new GoSlice(['a', 'b', 'c']),
  Empty: new GoSlice([]),
  Count: 3n,
});

function run(text: string, d: GoValue = data): Promise<string> {
  return Template.parse('t', text, new Map(), 'zero').execute(d);
}

describe('text/template', () => {
  // Expected outputs are what Go's text/template prints for the same template and data.
  const rows: Array<[string, string]> = [
    ['plain text', 'plain text'],
    ['{{ .Labels.instance }}', 'host:9100'],
    ['{{ .Labels.missing }}|', '|'],
    ['{{ .Value }}', '1e+06'],
    ['{{ .Count }}', '3'],
    ['{{ 3 }} {{ 3.0 }} {{ 1e3 }} {{ -2 }} {{ 0x10 }}', '3 3 1000 -2 16'],
    ['{{ "a\\tb" }}{{ `raw\\n` }}', 'a\tbraw\\n'],
    ['{{ $x := 5 }}{{ $x }}', '5'],
    ['{{ $x := 1 }}{{ $x = 2 }}{{ $x }}', '2'],
    ['{{ if .Labels.job }}yes{{ else }}no{{ end }}', 'yes'],
    ['{{ if .Labels.nope }}yes{{ else if .Count }}count{{ else }}no{{ end }}', 'count'],
    ['{{ with .Labels.job }}[{{ . }}]{{ end }}', '[node]'],
    ['{{ with .Labels.nope }}[{{ . }}]{{ else }}none{{ end }}', 'none'],
    ['{{ range .Items }}<{{ . }}>{{ end }}', '<a><b><c>'],
    ['{{ range $i, $e := .Items }}{{ $i }}={{ $e }} {{ end }}', '0=a 1=b 2=c '],
    ['{{ range .Empty }}x{{ else }}empty{{ end }}', 'empty'],
    ['{{ range $k, $v := .Labels }}{{ $k }}:{{ $v }};{{ end }}', 'instance:host:9100;job:node;'],
    ['{{ range .Items }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}', 'a'],
    ['{{ range .Items }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ . }}{{ end }}', 'ac'],
    ['{{ range 3 }}{{ . }}{{ end }}', '012'],
    ['a  {{- " b " -}}  c', 'a b c'],
    ['{{/* a comment */}}x', 'x'],
    ['{{ printf "%.2f" 3.14159 }}', '3.14'],
    ['{{ printf "%d items" .Count }}', '3 items'],
    ['{{ printf "%s=%v" "a" 1.5 }}', 'a=1.5'],
    ['{{ printf "%d" 1.5 }}', '%!d(float64=1.5)'],
    ['{{ printf "%s %s" "a" }}', 'a %!s(MISSING)'],
    ['{{ printf "%s" "a" "b" }}', 'a%!(EXTRA string=b)'],
    ['{{ printf "%5.1f|%-5s|%05d" 3.14159 "ab" 42 }}', '  3.1|ab   |00042'],
    ['{{ printf "%q" "x\\"y" }}', '"x\\"y"'],
    ['{{ print 1 2 "a" "b" 3 }}', '1 2ab3'],
    ['{{ len .Items }} {{ len "héllo" }} {{ len .Labels }}', '3 6 2'],
    ['{{ index .Items 1 }} {{ index .Labels "job" }}', 'b node'],
    ['{{ and 1 0 2 }} {{ or 0 "" "x" }} {{ not true }}', '0 x false'],
    ['{{ eq 1 2 3 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ ge 2.5 2.5 }}', 'true true true true'],
    ['{{ .Labels.job | printf "%s!" }}', 'node!'],
    ['{{ "a" | printf "%s-%s" "b" }}', 'b-a'],
    ['{{ html "<b>&" }} {{ js "it\'s" }} {{ urlquery "a b&c" }}', "&lt;b&gt;&amp; it\\'s a+b%26c"],
    ['{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" "y" }}', '[y]'],
    ['{{ block "b" .Count }}<{{ . }}>{{ end }}', '<3>'],
    ['{{ (index .Items 0) }}{{ (.Labels).job }}', 'anode'],
    // Literals as Go's strconv reads them; the expected outputs were printed by Go's text/template.
    ['{{ "a\tb" }}', 'a\tb'],
    ["{{ '\t' }} {{ '\\'' }}", '9 39'],
    ['{{ "\\x41\\101\\u00e9\\U0001F600\\a\\v" }}', 'AA\u00e9\u{1F600}\x07\v'],
    // Go's guard against widths and precisions past a million, also printed by Go.
    ['{{ printf "%.2906487324f|x" 1.5 }}', '%!(NOVERB)%!(EXTRA float64=1.5)'],
    ['{{ printf "%99999999d|x" 1 }}', '%!(NOVERB)%!(EXTRA int=1)'],
    ['{{ len (printf "%10000001d" 1) }}', '10000001'],
    ['{{ printf "%*d|x" "a" 1 }} {{ printf "%*d|x" 10000001 1 }}', '%!(BADWIDTH)1|x %!(BADWIDTH)1|x'],
    ['{{ printf "%.*d|x" -1 1 }} {{ printf "%.*f|x" 10000001 1.5 }}', '%!(BADPREC)1|x %!(BADPREC)1.500000|x'],
    ['{{ printf "%*d|" -3 1 }} {{ printf "%0*d|" -3 1 }}', '1  | 1  |'],
    ['{{ .Items }} {{ .Labels }}', '[a b c] map[instance:host:9100 job:node]'],
    ['{{ nil }}', '<nil>'],
  ];
  for (const [text, want] of rows) {
    it(text, async () => assert.equal(await run(text), want));
  }

  it('prints <no value> for a missing key without missingkey=zero', async () => {
    assert.equal(await Template.parse('t', '{{ .Labels.nope }}').execute(data), '<no value>');
  });

  const parseErrors: Array<[string, string]> = [
    ['{{ foo }}', 'template: t:1: function "foo" not defined'],
    ['{{ $x }}', 'template: t:1: undefined variable "$x"'],
    ['{{ if 1 }}', 'template: t:1: unexpected EOF'],
    ['{{ end }}', 'template: t:1: unexpected {{end}}'],
    ['a\n{{ .A', 'template: t:2: unclosed action'],
    ['{{ "abc }}', 'template: t:1: unterminated quoted string'],
    ['{{ .A"x" }}', 'template: t:1: unexpected "\\"x\\"" in operand'],
    ['{{ % }}', "template: t:1: bad character U+0025 '%'"],
    ['{{ break }}', 'template: t:1: {{break}} outside {{range}}'],
    ['{{ "\\\'" }}', 'template: t:1: invalid syntax'],
    ["{{ 'ab' }}", "template: t:1: malformed character constant: 'ab'"],
    ["{{ '' }}", 'template: t:1: invalid syntax'],
    ["{{ '\\\"' }}", 'template: t:1: invalid syntax'],
    ['{{ "\\400" }}', 'template: t:1: invalid syntax'],
    ['{{ "\\uD800" }}', 'template: t:1: invalid syntax'],
    ['{{ "\\z" }}', 'template: t:1: invalid syntax'],
    ['{{ block 3 . }}{{ end }}', 'template: t:1: unexpected "3" in block clause'],
  ];
  for (const [text, want] of parseErrors) {
    it(`refuses ${JSON.stringify(text)}`, () =>
      assert.throws(() => Template.parse('t', text), { message: want }));
  }

  const execErrors: Array<[string, string]> = [
    [
      '{{ .Labels.job.x }}',
      'template: t:1:3: executing "t" at <.Labels.job.x>: can\'t evaluate field x in type string',
    ],
    [
      '{{ index .Items 5 }}',
      'template: t:1:3: executing "t" at <index .Items 5>: error calling index: index out of range: 5',
    ],
    [
      '{{ lt 1 2.5 }}',
      'template: t:1:3: executing "t" at <lt 1 2.5>: error calling lt: incompatible types for comparison',
    ],
    ['{{ len 3.5 }}', 'template: t:1:3: executing "t" at <len 3.5>: error calling len: len of type float64'],
    [
      '{{ printf }}',
      'template: t:1:3: executing "t" at <printf>: wrong number of args for printf: want at least 1 got 0',
    ],
    ['{{ printf 3 }}', 'template: t:1:10: executing "t" at <3>: expected string; found 3'],
    [
      '{{ template "nope" }}',
      'template: t:1:3: executing "t" at <template "nope">: template: no template "nope" associated with template "t"',
    ],
  ];
  for (const [text, want] of execErrors) {
    it(`fails on ${JSON.stringify(text)}`, () => assert.rejects(run(text), { message: want }));
  }
});

describe('Go float formatting', () => {
  const rows: Array<[number, 'e' | 'f' | 'g', number, string]> = [
    [1000000, 'g', -1, '1e+06'],
    [123456, 'g', -1, '123456'],
    [0.00001, 'g', -1, '1e-05'],
    [12345, 'g', 4, '1.234e+04'],
    [1.5, 'g', 4, '1.5'],
    [0, 'g', 4, '0'],
    [0.125, 'f', 2, '0.12'],
    [2.675, 'f', 2, '2.67'],
    [999.95, 'g', 4, '1000'],
    [1234.5678, 'g', 4, '1235'],
    [3, 'e', 2, '3.00e+00'],
    [NaN, 'g', 4, 'NaN'],
    [-Infinity, 'g', -1, '-Inf'],
  ];
  for (const [x, f, p, want] of rows) it(`${x} %${f} ${p}`, () => assert.equal(formatFloat(x, f, p), want));

  it('sprintf pads and signs as fmt does', () => {
    assert.equal(sprintf('%+.1f|% d|%x|%X|%t|%%', [2.25, 5n, 255n, 'hi', true]), '+2.2| 5|ff|6869|true|%');
  });
});
