import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mutationsOf, syntaxSoup } from '@pharos/model/testing';
import { GoMap, GoSlice, GoStruct, Template, TemplateExecError, TemplateParseError } from './index.js';

const SEEDS = [
  '{{ define "x" }}{{ range $i, $v := .Items }}{{ if gt $i 0 }}, {{ end }}{{ $v | printf "%q" }}{{ end }}{{ end }}{{ template "x" . }}',
  'Value {{ printf "%.2f" .Value }} on {{ .Labels.instance }} {{ with .Missing }}{{ . }}{{ else }}none{{ end }}',
  '{{ $x := len .Items }}{{ if and (eq $x 2) (ne .Value 0.0) }}{{ index .Items 1 }}{{ end }}{{/* c */}}',
];

// The shape the ruler's alert templates get: a struct with a slice, a float and a label map.
const DATA = new GoStruct('fuzz.Data', {
  Items: new GoSlice(['a', 'b'], '[]string'),
  Value: 1.5,
  Labels: new GoMap(new Map([['instance', 'host:9100']])),
});

async function parseAndRun(text: string): Promise<void> {
  let t: Template;
  try {
    t = Template.parse('fuzz', text);
  } catch (e) {
    assert.ok(e instanceof TemplateParseError, `${String(e)} on ${JSON.stringify(text)}`);
    return;
  }
  try {
    assert.equal(typeof (await t.execute(DATA)), 'string');
  } catch (e) {
    assert.ok(e instanceof TemplateExecError, `${String(e)} on ${JSON.stringify(text)}`);
  }
}

describe('template engine under bad input', () => {
  it('edits of valid templates parse and run, or give a template error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SEEDS).chain((s) => mutationsOf(s, 4)),
        parseAndRun,
      ),
      { numRuns: 2000 },
    );
  });

  it('syntax soup parses and runs, or gives a template error', async () => {
    await fc.assert(
      fc.asyncProperty(
        syntaxSoup.map((s) => `{{${s}}}`),
        parseAndRun,
      ),
      { numRuns: 2000 },
    );
  });

  it('stops endless recursion at the maximum depth with an error', async () => {
    const t = Template.parse('loop', '{{ define "x" }}{{ template "x" . }}{{ end }}{{ template "x" . }}');
    await assert.rejects(t.execute(DATA), /exceeded maximum template depth \(\d+\)/);
  });
});
