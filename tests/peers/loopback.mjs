// Preload (`node --import ./loopback.mjs ...`): every net.Server#listen call that names no host listens on
// 127.0.0.1 instead of all interfaces. Handles listen(), listen(cb), listen(port[, backlog][, cb]) and
// listen({ port }); explicit hosts, unix socket paths and handles are left alone.
import net from 'node:net';

const HOST = '127.0.0.1';
const original = net.Server.prototype.listen;

const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));

net.Server.prototype.listen = function listen(...args) {
  const [first, second] = args;
  if (first !== null && typeof first === 'object') {
    const isOptions = !('_handle' in first) && !('fd' in first) && !('handle' in first) && !('path' in first);
    if (isOptions && first.host === undefined) args[0] = { ...first, host: HOST };
  } else if (first === undefined || typeof first === 'function') {
    args.splice(0, first === undefined ? 1 : 0, 0, HOST);
  } else if (isPort(first) && typeof second !== 'string') {
    args.splice(1, 0, HOST);
  }
  return original.apply(this, args);
};
