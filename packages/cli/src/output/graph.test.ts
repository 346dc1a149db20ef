import { describe, expect, it } from 'vitest';
import { dotString, graphFormat, normaliseGraphArg, renderSvg, toDot } from './graph.js';

describe('dotString', () => {
  it('quotes and escapes backslashes, quotes and newlines', () => {
    expect(dotString('a "b"\\c\nd')).toBe('"a \\"b\\"\\\\c\\nd"');
  });
});

describe('toDot', () => {
  it('draws processes as clusters, files as ellipses and links with labels', () => {
    const dot = toDot({
      title: 't',
      processes: [{ id: 'p1', label: '1 sh', external: false, nodes: [{ id: 'p1:3', label: 'fd 3' }] }],
      files: [{ id: 'f1', label: '#1 pipe:[9]' }],
      edges: [
        { from: 'p1:3', to: 'f1', kind: 'holds', directed: false },
        { from: 'f1', to: 'f2', kind: 'link', directed: true, label: '5 B pending' },
      ],
    });
    expect(dot).toContain('subgraph cluster_0 {');
    expect(dot).toContain('"f1" [label="#1 pipe:[9]", shape=ellipse];');
    expect(dot).toContain('"f1" -> "f2" [penwidth=2, color="#1f6feb", dir=forward, label="5 B pending"];');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
  });
});

describe('normaliseGraphArg', () => {
  it('gives a bare --graph the dot format and keeps an explicit one', () => {
    expect(normaliseGraphArg(['--graph', '12'])).toEqual(['--graph=dot', '12']);
    expect(normaliseGraphArg(['12', '--graph'])).toEqual(['12', '--graph=dot']);
    expect(normaliseGraphArg(['--graph', 'svg', '12'])).toEqual(['--graph', 'svg', '12']);
  });
});

describe('graphFormat', () => {
  it('rejects an unknown format, echoing it', () => {
    expect(() => graphFormat('png')).toThrow("invalid --graph format: 'png'");
  });
});

describe('renderSvg', () => {
  it('says how to install Graphviz when dot is missing', () => {
    expect(() => renderSvg('digraph {}', 'fdcr-no-such-dot')).toThrow(
      expect.objectContaining({ code: 'FDCR_E_CLI_GRAPHVIZ', hint: expect.stringContaining('apt-get install graphviz') }),
    );
  });
});
