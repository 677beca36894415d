// The node's own record from its body to its signature. By default signed at
// once with tweetnacl. With async signing (the daemon has native Ed25519) in
// two steps: sign() keeps the body and its unsigned bytes pending and returns
// those bytes for the daemon to sign; install() takes the signature back only
// for the latest pending body (a newer body supersedes an older one) and only
// if it verifies: through the core's verdict cache, which the daemon primes
// from native code, so nothing is verified twice. signPending() is the
// fallback when native signing fails: tweetnacl for that record.
import { bytesEqual } from './bytes.ts';
import { signDetached, verifyDetached, type SignKeys } from './crypto.ts';
import { encodeUnsigned, signedRecord, type NodeRecord, type RecordBody } from './record.ts';
import type { Cert } from './cert.ts';

/** Why a signature handed back was not installed. */
export type NotInstalled = 'superseded' | 'refused';

export class OwnRecordSigner {
  private pending: { body: RecordBody; chain: Cert[]; unsigned: Uint8Array } | null = null;
  /** Signatures handed back that did not verify. */
  refused = 0;

  constructor(private readonly keys: SignKeys, readonly async: boolean) {}

  /** The unsigned bytes waiting for their signature, if any. */
  get pendingBytes(): Uint8Array | null { return this.pending?.unsigned ?? null; }

  /** The signed record (synchronous signing), or the unsigned bytes now pending (async signing). */
  sign(body: RecordBody, chain: Cert[]): NodeRecord | Uint8Array {
    const unsigned = encodeUnsigned(body, chain);
    if (!this.async) return signedRecord(body, chain, unsigned, signDetached(unsigned, this.keys.secretKey));
    this.pending = { body, chain, unsigned };
    return unsigned;
  }

  /** The record, if unsigned is still pending and signature is our key's over it. */
  install(unsigned: Uint8Array, signature: Uint8Array): NodeRecord | NotInstalled {
    const p = this.pending;
    if (!p || !bytesEqual(p.unsigned, unsigned)) return 'superseded';
    if (!verifyDetached(unsigned, signature, this.keys.publicKey)) { this.refused++; return 'refused'; }
    this.pending = null;
    return signedRecord(p.body, p.chain, unsigned, signature);
  }

  /** The pending record signed with tweetnacl, or null when unsigned (if given) is no longer the pending one. */
  signPending(unsigned?: Uint8Array): NodeRecord | null {
    const p = this.pending;
    if (!p || (unsigned && !bytesEqual(p.unsigned, unsigned))) return null;
    this.pending = null;
    return signedRecord(p.body, p.chain, p.unsigned, signDetached(p.unsigned, this.keys.secretKey));
  }
}
