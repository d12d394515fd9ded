import { CoreErrors } from '../../core/index.js';

/** Help text of `postern edge --device-login`. */
export const DEVICE_LOGIN_HELP =
  'on|off: offer `postern login --device` (RFC 8628 device login) at /.postern/cli/device; off answers 404 there (env POSTERN_DEVICE_LOGIN; default on)';

/**
 * Whether `--device-login` offers device logins (undefined: the edge's default, on); a coded
 * error for anything but `on` or `off`.
 */
export function deviceLoginEnabled(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().toLowerCase();
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw CoreErrors.invalidArgument(`--device-login "${text}"`, 'give on or off.');
}
