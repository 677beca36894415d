// The errors of the ubus client: a failed ubus operation carries the ubus
// status code and its name; a method handler throws UbusStatusError to choose
// the status its caller receives.
import { statusName } from './message.ts';

/** A ubus request finished with a non-zero status (from ubusd, the server, or locally: timeout, connection lost). */
export class UbusError extends Error {
  override name = 'UbusError';
  /** The UBUS_STATUS code, e.g. 3. */
  readonly status: number;
  /** The status name, e.g. "METHOD_NOT_FOUND". */
  readonly statusName: string;

  constructor(status: number, message: string) {
    super(`${message}: ${statusName(status)} (ubus status ${status})`);
    this.status = status;
    this.statusName = statusName(status);
  }
}

/**
 * Thrown by a method handler to answer with a given status, e.g.
 * `throw new UbusStatusError(UBUS_STATUS.NOT_FOUND, 'no peer "x"')`.
 * Any other exception from a handler answers UNKNOWN_ERROR.
 */
export class UbusStatusError extends UbusError {
  override name = 'UbusStatusError';
}
