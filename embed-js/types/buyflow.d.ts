// Type declarations for the Buyflow embed library (window.Buyflow).

/** Where the buy flow opens. */
export type BuyflowMode = 'overlay' | 'inline' | 'window';

interface BuyflowCommonOptions {
  /** Your seller id, `sel_...`. */
  seller: string;
  /** The flow's language (e.g. `fr`); default: the buyer's browser languages, then yours. */
  locale?: string;
  /** Default `'inline'` when `container` is given, else `'overlay'`. */
  mode?: BuyflowMode;
  /** For inline mode: the element, or a CSS selector of the element, to mount the flow in. */
  container?: Element | string;
}

/** A catalog product at its catalog price, or what your server's signed request names. */
export type BuyflowOpenOptions = BuyflowCommonOptions &
  ({ /** The product's id, `prod_...`. */ product: string; request?: never } |
   { /** A purchase request signed by your server (see docs/sellers.md). */ request: string;
     product?: never });

/** What the page receives when the buyer has paid. Only a hint: verify `result` on your server. */
export interface BuyflowPurchase {
  /** The signed result token, to send to your server for verification. */
  result: string;
  /** The order id, `ord_...`. */
  order: string;
  /** `'paid'`. */
  status: string;
}

/** Every rejection of `Buyflow.open()`, and the detail of the `failed` event. */
export interface BuyflowError extends Error {
  /**
   * `closed` (the buyer closed the flow; promise only, no `failed` event), `invalid_options`,
   * `already_open`, `load_failed` (also what a page on an origin not registered for the
   * seller gets), `popup_blocked`, or a code the flow sends at once when it cannot start
   * (`unknown_product`, `request_invalid`, `request_expired`, `already_paid`,
   * `order_expired`).
   */
  code: string;
}

/** The `detail` of each event, by name. */
export interface BuyflowEventMap {
  loaded: { mode: BuyflowMode };
  resized: { height: number };
  completed: BuyflowPurchase;
  failed: BuyflowError;
  closed: { mode: BuyflowMode };
}

export type BuyflowEventName = keyof BuyflowEventMap;

export interface Buyflow {
  /** The library's exact version, e.g. `'0.2.0'`. */
  readonly version: string;
  /** Open the buy flow; resolves with the purchase, rejects with a `BuyflowError`. */
  open(options: BuyflowOpenOptions): Promise<BuyflowPurchase>;
  /** Close the open flow, if any (its promise rejects with `closed` unless already settled). */
  close(): void;
  /**
   * Listen to an event of every flow. Handlers receive a DOM CustomEvent whose `detail` is the
   * event's data; the same event bubbles from a declarative button as `buyflow:<name>`.
   */
  on<K extends BuyflowEventName>(name: K, handler: (event: CustomEvent<BuyflowEventMap[K]>) => void): void;
  /** Stop listening with a handler given to `on`. */
  off<K extends BuyflowEventName>(name: K, handler: (event: CustomEvent<BuyflowEventMap[K]>) => void): void;
}

declare global {
  interface Window {
    Buyflow: Buyflow;
  }
  const Buyflow: Buyflow;
  interface HTMLElementEventMap {
    'buyflow:loaded': CustomEvent<BuyflowEventMap['loaded']>;
    'buyflow:resized': CustomEvent<BuyflowEventMap['resized']>;
    'buyflow:completed': CustomEvent<BuyflowEventMap['completed']>;
    'buyflow:failed': CustomEvent<BuyflowEventMap['failed']>;
    'buyflow:closed': CustomEvent<BuyflowEventMap['closed']>;
  }
  interface DocumentEventMap {
    'buyflow:loaded': CustomEvent<BuyflowEventMap['loaded']>;
    'buyflow:resized': CustomEvent<BuyflowEventMap['resized']>;
    'buyflow:completed': CustomEvent<BuyflowEventMap['completed']>;
    'buyflow:failed': CustomEvent<BuyflowEventMap['failed']>;
    'buyflow:closed': CustomEvent<BuyflowEventMap['closed']>;
  }
}
