import { linux, type EntityRecord, type ImageContents, type ObjectRecord } from '@fdcr/core';
import type { GraphEdge, GraphModel, GraphProcess } from './graph.js';
import { humanBytes } from './format.js';

/** What the image graph needs besides the records: entity descriptions and stream sizes. */
export interface ImageGraphInput {
  name: string;
  contents: ImageContents;
  describe(entity: EntityRecord): string;
  /** Bytes saved for an object or entity (its pending data). */
  pendingOf(record: ObjectRecord | EntityRecord): number;
}

const mode = (flags: number): string => ['r', 'w', 'rw'][flags & linux.O_ACCMODE] ?? '?';

function processBoxes(contents: ImageContents): GraphProcess[] {
  return contents.processes.map((p) => ({
    id: `p${p.pid}`,
    label: `${p.pid} ${p.comm}`,
    external: false,
    nodes: contents.descriptors
      .filter((d) => d.pid === p.pid)
      .map((d) => ({ id: `p${d.pid}:${d.fd}`, label: `fd ${d.fd}${d.cloexec ? ' (cloexec)' : ''}` })),
  }));
}

/**
 * Links between the entities that share one object (both ends of a pipe or socketpair):
 * from writers to readers when access modes say which is which, else one undirected line.
 */
function objectLinks(input: ImageGraphInput): GraphEdge[] {
  const edges: GraphEdge[] = [];
  for (const object of input.contents.objects) {
    const ends = input.contents.entities.filter((e) => e.object === object.id);
    const label = `${object.kind}\n${humanBytes(input.pendingOf(object))} pending`;
    const writers = ends.filter((e) => mode(e.flags) === 'w');
    const readers = ends.filter((e) => mode(e.flags) === 'r');
    if (writers.length > 0 && readers.length > 0) {
      for (const w of writers) for (const r of readers) edges.push({ from: `e${w.id}`, to: `e${r.id}`, kind: 'link', directed: true, label });
      continue;
    }
    for (let i = 1; i < ends.length; i++) {
      edges.push({ from: `e${ends[i - 1]!.id}`, to: `e${ends[i]!.id}`, kind: 'link', directed: false, label });
    }
  }
  return edges;
}

/** Links an entity states itself through a numeric `peer` field naming another entity. */
function peerLinks(input: ImageGraphInput): GraphEdge[] {
  const ids = new Set(input.contents.entities.map((e) => e.id));
  return input.contents.entities
    .filter((e) => typeof e.state.peer === 'number' && ids.has(e.state.peer) && e.id < (e.state.peer as number))
    .map((e) => ({ from: `e${e.id}`, to: `e${e.state.peer as number}`, kind: 'link', directed: false, label: `${e.kind}\n${humanBytes(input.pendingOf(e))} pending` }));
}

/** The graph of an image: processes, descriptors, entities, and pipes/socketpairs as links. */
export function imageGraph(input: ImageGraphInput): GraphModel {
  const { contents } = input;
  const files = contents.entities.map((e) => ({ id: `e${e.id}`, label: `#${e.id} ${mode(e.flags)} ${input.describe(e)}` }));
  const holds: GraphEdge[] = contents.descriptors.map((d) => ({ from: `p${d.pid}:${d.fd}`, to: `e${d.entity}`, kind: 'holds', directed: false }));
  return {
    title: `fdcr image ${input.name}`,
    processes: processBoxes(contents),
    files,
    edges: [...holds, ...objectLinks(input), ...peerLinks(input)],
  };
}
