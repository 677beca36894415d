// The public API of src/uci: UCI config files parsed and written exactly as
// upstream uci does, lookups and edits, and /etc/config/kith validation.
export { anonymousName, isValidName, isValidPackageName, isValidText, isValidType, newSection, sectionId, uciEqual } from './model.ts';
export type { UciPackage, UciSection, UciValue } from './model.ts';
export { MAX_UCI_FILE_BYTES, parseUci, parseUciLenient, UciSyntaxError } from './parse.ts';
export type { UciParseError } from './parse.ts';
export { exportUci, quoteUci, serializeUci } from './serialize.ts';
export { findSection, getValue, lookupUciKey, parseUciKey, resolveTypeIndex, showUci, showValue, uciGet, uciShow } from './address.ts';
export type { UciCliResult, UciKey, UciLookupError, UciTarget } from './address.ts';
export { uciAddList, uciAddSection, uciDelete, uciDelList, uciRename, uciReorder, uciSet } from './edit.ts';
export type { UciEditResult } from './edit.ts';
export { UCI_FILE_MODE, writeUciAtomic } from './write.ts';
export {
  DEFAULT_DNS_PORT, formatProblem, MAX_DNS_LISTEN, MAX_DNS_UPSTREAMS, MAX_ENDPOINTS, MAX_EXIT_CAPACITY_MBIT, MAX_SERVICES, MAX_SUBNETS,
  readKithSettings, validateKithSettings,
} from './settings.ts';
export type { DnsSettings, ExitSettings, KithSettings, Problem, ServiceSettings, SettingsResult, SubnetSettings, ValidateOptions } from './settings.ts';
export type { DnsServer, HostPort } from './values.ts';
