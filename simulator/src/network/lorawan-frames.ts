/**
 * LoRaWAN 1.0.x frames with real crypto: join request/accept and session key
 * derivation with lora-packet, data frames with 32-bit frame counters on
 * Node's AES (lorawan-crypto.ts, checked against lora-packet). Shared by the
 * modem emulators (the end device) and the network server, so both sides run
 * the same AES-CMAC/AES-CTR that a real device and server run.
 */
import loraPacketModule from "lora-packet";
import { cryptFrmPayload, dataMic } from "./lorawan-crypto.ts";

// lora-packet is CommonJS with `exports.default`: tsx hands us the object, plain Node ESM the namespace.
const lp = (loraPacketModule as unknown as { default?: typeof loraPacketModule }).default ?? loraPacketModule;

type LoraPacket = ReturnType<typeof lp.fromWire>;

/** Message types of LoRaWAN 1.0.x. */
export type MType = "join-request" | "join-accept" | "unconfirmed-up" | "unconfirmed-down" | "confirmed-up" | "confirmed-down" | "other";

const MTYPE_NAMES: readonly MType[] = ["join-request", "join-accept", "unconfirmed-up", "unconfirmed-down", "confirmed-up", "confirmed-down", "other", "other"];

/** Session keys of LoRaWAN 1.0.x. */
export interface SessionKeys {
  nwkSKey: Uint8Array;
  appSKey: Uint8Array;
}

/** Fields of a join accept (after decryption). */
export interface JoinAcceptFields {
  joinNonce: number;
  netId: number;
  devAddr: number;
  rx1DrOffset: number;
  rx2Dr: number;
  /** RECEIVE_DELAY1 in seconds (0 means 1). */
  rxDelay: number;
  /** CFList (16 bytes) or empty. */
  cfList: Uint8Array;
}

/** A data frame, as built by the sender or opened by the receiver. */
export interface DataFrame {
  mType: "unconfirmed-up" | "confirmed-up" | "unconfirmed-down" | "confirmed-down";
  devAddr: number;
  /** Full 32-bit frame counter (only the 16 LSBs travel). */
  fCnt: number;
  adr: boolean;
  adrAckReq: boolean;
  ack: boolean;
  fPending: boolean;
  /** MAC commands piggybacked in FOpts (≤ 15 bytes, in clear in 1.0.x). */
  fOpts: Uint8Array;
  /** FPort; undefined for a frame without FRMPayload. */
  fPort: number | undefined;
  /** Plaintext FRMPayload. */
  payload: Uint8Array;
}

/** Header fields readable without keys. */
export interface DataHeader {
  mType: DataFrame["mType"];
  devAddr: number;
  fCnt16: number;
  adr: boolean;
  adrAckReq: boolean;
  ack: boolean;
  fPending: boolean;
  fOpts: Uint8Array;
  fPort: number | undefined;
}

/** Bytes from hex (spaces, colons and dashes ignored); throws on odd length or bad digits. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:-]/g, "");
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new RangeError(`bad hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (nibble(clean.charCodeAt(2 * i)) << 4) | nibble(clean.charCodeAt(2 * i + 1));
  return out;
}

/** The value of a hex digit's character code (checked to be one). */
function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/** Each byte's two upper-case hex digits (every uplink's PHYPayload is written out at least twice). */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0").toUpperCase());

/** Upper-case hex of bytes. */
export function toHex(bytes: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX_BYTE[bytes[i] & 0xff];
  return s;
}

const buf = (b: Uint8Array | string): Buffer => (typeof b === "string" ? Buffer.from(fromHex(b)) : Buffer.from(b));
const be = (value: number, bytes: number): Buffer => {
  const out = Buffer.alloc(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = value & 0xff;
    value = Math.floor(value / 256);
  }
  return out;
};
const fromBe = (b: Buffer | undefined): number => {
  let v = 0;
  for (const x of b ?? []) v = v * 256 + x;
  return v;
};
const out = (b: Buffer | void): Uint8Array => new Uint8Array(b ?? Buffer.alloc(0));

/** Message type of a PHY payload, from its MHDR. */
export function mTypeOf(phy: Uint8Array): MType {
  return phy.length ? MTYPE_NAMES[phy[0] >> 5] : "other";
}

function parse(phy: Uint8Array): LoraPacket | undefined {
  try {
    return lp.fromWire(Buffer.from(phy));
  } catch {
    return undefined;
  }
}

/** Builds a join request (MIC with the AppKey). EUIs as 16 hex digits, DevNonce as a 16-bit number. */
export function buildJoinRequest(joinEui: string, devEui: string, devNonce: number, appKey: Uint8Array): Uint8Array {
  const p = lp.fromFields({ MType: "Join Request", AppEUI: buf(joinEui), DevEUI: buf(devEui), DevNonce: be(devNonce, 2) }, undefined, undefined, buf(appKey));
  return out(p.getPHYPayload());
}

/** Reads a join request's fields (no key needed); undefined if it is not one. */
export function parseJoinRequest(phy: Uint8Array): { joinEui: string; devEui: string; devNonce: number } | undefined {
  if (mTypeOf(phy) !== "join-request" || phy.length !== 23) return undefined;
  const p = parse(phy);
  if (!p?.AppEUI || !p.DevEUI || !p.DevNonce) return undefined;
  return { joinEui: toHex(p.AppEUI), devEui: toHex(p.DevEUI), devNonce: fromBe(p.DevNonce) };
}

/** Whether a join request's MIC matches `appKey`. */
export function joinRequestMicOk(phy: Uint8Array, appKey: Uint8Array): boolean {
  const p = parse(phy);
  return !!p && lp.verifyMIC(p, undefined, buf(appKey));
}

/** Builds a join accept, MIC'd and encrypted with the AppKey as the network sends it. */
export function buildJoinAccept(f: JoinAcceptFields, appKey: Uint8Array): Uint8Array {
  const dl = ((f.rx1DrOffset & 7) << 4) | (f.rx2Dr & 0x0f);
  const p = lp.fromFields(
    {
      MType: "Join Accept",
      AppNonce: be(f.joinNonce, 3),
      NetID: be(f.netId, 3),
      DevAddr: be(f.devAddr, 4),
      // lora-packet skips a zero number here; a Buffer is always taken.
      DLSettings: Buffer.from([dl]),
      RxDelay: Buffer.from([f.rxDelay & 0x0f]),
      CFList: Buffer.from(f.cfList),
    },
    undefined,
    undefined,
    buf(appKey),
  );
  return out(p.getPHYPayload());
}

/** Decrypts a join accept and checks its MIC; undefined if it is not one or the MIC fails. */
export function openJoinAccept(phy: Uint8Array, appKey: Uint8Array): JoinAcceptFields | undefined {
  if (mTypeOf(phy) !== "join-accept" || (phy.length !== 17 && phy.length !== 33)) return undefined;
  const p = parse(phy);
  if (!p) return undefined;
  const plain = parse(new Uint8Array(lp.decryptJoinAccept(p, buf(appKey))));
  if (!plain || !lp.verifyMIC(plain, undefined, buf(appKey))) return undefined;
  const dl = plain.DLSettings?.[0] ?? 0;
  return {
    joinNonce: fromBe(plain.AppNonce),
    netId: fromBe(plain.NetID),
    devAddr: fromBe(plain.DevAddr) >>> 0,
    rx1DrOffset: (dl >> 4) & 7,
    rx2Dr: dl & 0x0f,
    rxDelay: (plain.RxDelay?.[0] ?? 0) & 0x0f,
    cfList: new Uint8Array(plain.CFList ?? []),
  };
}

/** Derives NwkSKey and AppSKey (LoRaWAN 1.0.x) from the AppKey, JoinNonce, NetID and DevNonce. */
export function deriveSessionKeys(appKey: Uint8Array, joinNonce: number, netId: number, devNonce: number): SessionKeys {
  const k = lp.generateSessionKeys10(buf(appKey), be(netId, 3), be(joinNonce, 3), be(devNonce, 2));
  return { nwkSKey: new Uint8Array(k.NwkSKey), appSKey: new Uint8Array(k.AppSKey) };
}

const MTYPE_CODES: { [k in DataFrame["mType"]]: number } = { "unconfirmed-up": 2, "unconfirmed-down": 3, "confirmed-up": 4, "confirmed-down": 5 };

/** Builds a data frame: FRMPayload encrypted (AppSKey, or NwkSKey on port 0), MIC over the 32-bit FCnt. */
export function buildDataFrame(f: DataFrame, keys: SessionKeys): Uint8Array {
  const down = f.mType === "unconfirmed-down" || f.mType === "confirmed-down";
  const devAddr = f.devAddr >>> 0;
  const fOptsLen = Math.min(15, f.fOpts.length);
  const hasPort = f.fPort !== undefined;
  const payload = hasPort ? cryptFrmPayload(f.fPort === 0 ? keys.nwkSKey : keys.appSKey, down, devAddr, f.fCnt >>> 0, f.payload) : new Uint8Array(0);
  const msg = new Uint8Array(1 + 7 + fOptsLen + (hasPort ? 1 : 0) + payload.length);
  msg[0] = MTYPE_CODES[f.mType] << 5;
  for (let i = 0; i < 4; i++) msg[1 + i] = (devAddr >>> (8 * i)) & 0xff;
  msg[5] = (f.adr ? 0x80 : 0) | (f.adrAckReq ? 0x40 : 0) | (f.ack ? 0x20 : 0) | (f.fPending ? 0x10 : 0) | fOptsLen;
  msg[6] = f.fCnt & 0xff;
  msg[7] = (f.fCnt >>> 8) & 0xff;
  msg.set(f.fOpts.subarray(0, fOptsLen), 8);
  let at = 8 + fOptsLen;
  if (hasPort) msg[at++] = f.fPort! & 0xff;
  msg.set(payload, at);
  const phy = new Uint8Array(msg.length + 4);
  phy.set(msg);
  phy.set(dataMic(keys.nwkSKey, down, devAddr, f.fCnt >>> 0, msg), msg.length);
  return phy;
}

/** Reads a data frame's header without keys; undefined if it is not a data frame. */
export function peekDataFrame(phy: Uint8Array): DataHeader | undefined {
  const mType = mTypeOf(phy);
  if (mType !== "unconfirmed-up" && mType !== "confirmed-up" && mType !== "unconfirmed-down" && mType !== "confirmed-down") return undefined;
  if (phy.length < 12) return undefined;
  const fctrl = phy[5];
  const fOptsEnd = 8 + (fctrl & 0x0f);
  const micAt = phy.length - 4;
  if (fOptsEnd > micAt) return undefined;
  return {
    mType,
    devAddr: (phy[1] | (phy[2] << 8) | (phy[3] << 16) | (phy[4] << 24)) >>> 0,
    fCnt16: phy[6] | (phy[7] << 8),
    adr: (fctrl & 0x80) !== 0,
    adrAckReq: (fctrl & 0x40) !== 0,
    ack: (fctrl & 0x20) !== 0,
    fPending: (fctrl & 0x10) !== 0,
    fOpts: phy.slice(8, fOptsEnd),
    fPort: fOptsEnd < micAt ? phy[fOptsEnd] : undefined,
  };
}

/**
 * The 32-bit counter a 16-bit on-air value stands for, given the last one
 * seen (`last`, or -1 before any): the nearest value not below `last` whose
 * low 16 bits match (LoRaWAN 1.0.x, MAX_FCNT_GAP 16384 is checked by the caller).
 */
export function expandFCnt(fCnt16: number, last: number): number {
  if (last < 0) return fCnt16;
  let candidate = (last & 0xffff0000) + fCnt16;
  if (candidate < last) candidate += 0x10000;
  return candidate >>> 0;
}

/** Verifies a data frame's MIC with the 32-bit `fCnt` and decrypts it; undefined on MIC failure. */
export function openDataFrame(phy: Uint8Array, keys: SessionKeys, fCnt: number): DataFrame | undefined {
  const header = peekDataFrame(phy);
  if (!header) return undefined;
  const down = header.mType === "unconfirmed-down" || header.mType === "confirmed-down";
  const micAt = phy.length - 4;
  const mic = dataMic(keys.nwkSKey, down, header.devAddr, fCnt >>> 0, phy.subarray(0, micAt));
  for (let i = 0; i < 4; i++) if (mic[i] !== phy[micAt + i]) return undefined;
  const payloadAt = 8 + header.fOpts.length + 1;
  const payload = header.fPort === undefined || payloadAt >= micAt
    ? new Uint8Array(0)
    : cryptFrmPayload(header.fPort === 0 ? keys.nwkSKey : keys.appSKey, down, header.devAddr, fCnt >>> 0, phy.subarray(payloadAt, micAt));
  return {
    mType: header.mType,
    devAddr: header.devAddr,
    fCnt,
    adr: header.adr,
    adrAckReq: header.adrAckReq,
    ack: header.ack,
    fPending: header.fPending,
    fOpts: header.fOpts,
    fPort: header.fPort,
    payload,
  };
}
