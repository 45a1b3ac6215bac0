import type { RouteConfig } from './config.js';
import type { LabelSet } from './labelset.js';
import { matchersString, matchesAll, type Matcher } from './matchers.js';

export interface RouteOpts {
  readonly receiver: string;
  /** Label names to group by; null groups by every label (`...`). */
  readonly groupBy: readonly string[] | null;
  readonly groupWait: number;
  readonly groupInterval: number;
  readonly repeatInterval: number;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
}

const DEFAULTS: RouteOpts = {
  receiver: '',
  groupBy: [],
  groupWait: 30_000,
  groupInterval: 5 * 60_000,
  repeatInterval: 4 * 3600_000,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
};

/** dispatch.Route: a node of the routing tree with options inherited from its parent. */
export class Route {
  readonly routes: Route[];
  readonly opts: RouteOpts;
  readonly matchers: readonly Matcher[];
  readonly continue: boolean;

  constructor(
    cfg: RouteConfig,
    readonly parent: Route | null = null,
  ) {
    const p = parent?.opts ?? DEFAULTS;
    this.opts = {
      receiver: cfg.receiver ?? p.receiver,
      groupBy: cfg.groupBy === undefined ? p.groupBy : cfg.groupBy === '...' ? null : [...cfg.groupBy].sort(),
      groupWait: cfg.groupWait ?? p.groupWait,
      groupInterval: cfg.groupInterval ?? p.groupInterval,
      repeatInterval: cfg.repeatInterval ?? p.repeatInterval,
      muteTimeIntervals: cfg.muteTimeIntervals,
      activeTimeIntervals: cfg.activeTimeIntervals,
    };
    this.matchers = cfg.matchers;
    this.continue = cfg.continue;
    this.routes = cfg.routes.map((c) => new Route(c, this));
  }

  /** The routes an alert goes to: the deepest matching children, following `continue`. */
  match(ls: LabelSet): Route[] {
    if (!matchesAll(this.matchers, ls)) return [];
    const all: Route[] = [];
    for (const child of this.routes) {
      const found = child.match(ls);
      all.push(...found);
      if (found.length > 0 && !child.continue) break;
    }
    return all.length === 0 ? [this] : all;
  }

  /** Route.Key(): the matchers from the root down; part of every group key. */
  key(): string {
    const own = matchersString(this.matchers);
    return this.parent ? `${this.parent.key()}/${own}` : own;
  }
}
