import type { LiveFd, LivePeer, LiveView } from '@fdcr/core';
import type { GraphEdge, GraphModel, GraphNode, GraphProcess } from './graph.js';
import { humanBytes } from './format.js';

const fdNode = (pid: number, fd: number): string => `p${pid}:${fd}`;
const fileNode = (file: number): string => `f${file}`;

function shorten(text: string, max = 40): string {
  return text.length > max ? `...${text.slice(text.length - max + 3)}` : text;
}

/** Builds the graph of a live view as it goes: named processes first, then the peers. */
class LiveGraph {
  private readonly named = new Map<number, GraphProcess>();
  private readonly external = new Map<number, GraphProcess>();
  private readonly files = new Map<number, GraphNode>();
  private readonly edges = new Map<string, GraphEdge>();
  /** Which file node each descriptor of a named process is on. */
  private readonly fileOf = new Map<string, number>();

  constructor(private readonly view: LiveView) {
    for (const proc of view.processes) {
      const nodes = proc.fds.map((fd) => ({ id: fdNode(proc.pid, fd.fd), label: `fd ${fd.fd} ${fd.access}\n${fd.kind ?? fd.type}` }));
      this.named.set(proc.pid, { id: `p${proc.pid}`, label: `${proc.pid} ${proc.comm}`, external: false, nodes });
      for (const fd of proc.fds) this.addHolds(proc.pid, fd);
    }
  }

  model(): GraphModel {
    for (const proc of this.view.processes) for (const fd of proc.fds) this.addLinks(proc.pid, fd);
    const pids = this.view.processes.map((p) => p.pid).join(', ');
    return {
      title: `fdcr inspect ${pids}`,
      processes: [...this.named.values(), ...this.external.values()],
      files: [...this.files.values()],
      edges: [...this.edges.values()],
    };
  }

  private addHolds(pid: number, fd: LiveFd): void {
    this.fileOf.set(fdNode(pid, fd.fd), fd.file);
    if (!this.files.has(fd.file)) {
      this.files.set(fd.file, { id: fileNode(fd.file), label: `#${fd.file} ${shorten(fd.target)}` });
    }
    this.edge({ from: fdNode(pid, fd.fd), to: fileNode(fd.file), kind: 'holds', directed: false });
  }

  /** The node standing for a holder: its open file if named, else a box in a dashed process. */
  private endpoint(holder: LivePeer): string {
    const file = this.fileOf.get(fdNode(holder.pid, holder.fd));
    if (file !== undefined) return fileNode(file);

    const proc = this.external.get(holder.pid) ?? { id: `x${holder.pid}`, label: `${holder.pid} ${holder.comm} (not named)`, external: true, nodes: [] };
    this.external.set(holder.pid, proc);
    const id = `x${holder.pid}:${holder.fd}`;
    if (!proc.nodes.some((n) => n.id === id)) proc.nodes.push({ id, label: `fd ${holder.fd} ${holder.access}` });
    return id;
  }

  private addLinks(pid: number, fd: LiveFd): void {
    const self = fileNode(fd.file);
    if (fd.type === 'pipe' || fd.type === 'fifo') {
      const label = `${shorten(fd.target, 24)}\n${humanBytes(fd.pendingIn ?? fd.pendingOut ?? 0)} pending`;
      for (const peer of fd.peers) {
        // Only the other end is drawn: a second writer of the same pipe is no link.
        const out = fd.access !== 'r' && peer.access !== 'w';
        const into = fd.access !== 'w' && peer.access !== 'r';
        if (!out && !into) continue;

        const other = this.endpoint(peer);
        if (other === self) continue;

        if (out) this.edge({ from: self, to: other, kind: 'link', directed: true, label });
        if (into) this.edge({ from: other, to: self, kind: 'link', directed: true, label });
      }
    }
    if (fd.type === 'socket' && fd.peerInode !== undefined) {
      // A socket line has no direction: each end is named with what it has to read.
      for (const peer of fd.peers) {
        const label = `${fd.kind ?? 'socket'}\n${humanBytes(fd.pendingIn ?? 0)} for ${pid} fd ${fd.fd}\n${humanBytes(fd.pendingOut ?? 0)} for ${peer.pid} fd ${peer.fd}`;
        this.edge({ from: self, to: this.endpoint(peer), kind: 'link', directed: false, label });
      }
    }
  }

  /** Adds an edge once; a socket pair seen from both ends is one line. */
  private edge(edge: GraphEdge): void {
    const key = edge.directed ? `${edge.from}>${edge.to}` : [edge.from, edge.to].sort().join('-');
    if (!this.edges.has(key)) this.edges.set(key, edge);
  }
}

/** The graph of a live view: named processes, their descriptors and open files, and links. */
export function liveGraph(view: LiveView): GraphModel {
  return new LiveGraph(view).model();
}
