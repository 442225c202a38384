/**
 * `embedded:io/digital` as Moddable implements it (modules/io/digital/digital.js
 * on top of DigitalBank). Replaces @moddable/typings 5.6
 * embedded_io/digital.d.ts, which types the mode constants as `unknown`, so no
 * driver can take them as the numbers they are, and restricts `write` to 0 | 1
 * (the implementation takes any number). Module-style for the same reason as
 * embedded-io-i2c.d.ts.
 */
type PinSpecifier = number;

export interface DigitalOptions {
  pin: PinSpecifier;
  /** One of Digital.Input … Digital.OutputOpenDrain. */
  mode: number;
  /** Digital.Rising | Digital.Falling, with `onReadable`. */
  edge?: number;
  onReadable?: (this: Digital) => void;
  /** Output level set as the pin is opened. */
  initialValue?: number;
  activeLow?: boolean;
  format?: "number";
  target?: unknown;
}

export default class Digital {
  static readonly Input: 0;
  static readonly InputPullUp: 1;
  static readonly InputPullDown: 2;
  static readonly InputPullUpDown: 3;
  static readonly Output: 8;
  static readonly OutputOpenDrain: 9;
  static readonly Rising: 1;
  static readonly Falling: 2;
  constructor(options: DigitalOptions);
  read(): 0 | 1;
  /** Any non-zero number drives the pin high. */
  write(value: number): void;
  close(): void;
  get format(): "number";
  set format(value: "number");
}
