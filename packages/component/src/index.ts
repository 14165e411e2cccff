// What every knet app process shares: flag value parsers and the status-server plumbing.
export { goDuration } from './duration.js';
export { closeHttp, listenHttp, type HttpListener } from './http.js';
