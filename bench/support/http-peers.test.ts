import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backendBody,
  backendNginxConfig,
  backendStatusPath,
  haproxyConfig,
  nginxProxyConfig,
  parseStubStatus,
} from './http-peers.js';

test('backendNginxConfig serves each named port with its own body and a status page', () => {
  const text = backendNginxConfig({ dir: '/tmp/b', ports: { a: 8001, b: 8002 } });
  assert.match(text, /listen 127\.0\.0\.1:8001 [^}]*return 200 "backend-a\\n";/);
  assert.match(text, /listen 127\.0\.0\.1:8002 [^}]*return 200 "backend-b\\n";/);
  assert.equal(text.split(`location = ${backendStatusPath} { stub_status; }`).length - 1, 2);
  assert.match(text, /^daemon off;$/m);
  assert.match(text, /^pid \/tmp\/b\/nginx\.pid;$/m);
  assert.equal(backendBody('a'), 'backend-a\n');
});

test('nginxProxyConfig terminates TLS and keeps upstream connections alive', () => {
  const text = nginxProxyConfig({
    dir: '/d',
    port: 9443,
    backend: 8001,
    cert: '/c.pem',
    key: '/k.pem',
  });
  assert.match(text, /listen 127\.0\.0\.1:9443 ssl/);
  assert.match(text, /ssl_certificate \/c\.pem;/);
  assert.match(text, /ssl_certificate_key \/k\.pem;/);
  assert.match(text, /upstream backend \{ server 127\.0\.0\.1:8001; keepalive \d+;/);
  // Upstream keep-alive needs HTTP/1.1 and an empty Connection header.
  assert.match(text, /proxy_http_version 1\.1;/);
  assert.match(text, /proxy_set_header Connection "";/);
});

test('haproxyConfig is HTTP mode with TLS on the bind line, one thread and connection reuse', () => {
  const text = haproxyConfig({ port: 9444, backend: 8001, pem: '/all.pem' });
  assert.match(text, /^ {2}mode http$/m);
  assert.match(text, /^ {2}nbthread 1$/m);
  assert.match(text, /^ {2}bind 127\.0\.0\.1:9444 ssl crt \/all\.pem$/m);
  assert.match(text, /^ {2}http-reuse always$/m);
  assert.match(text, /^ {2}server s1 127\.0\.0\.1:8001$/m);
});

test('parseStubStatus reads the connection and request counters of nginx stub_status', () => {
  const page =
    'Active connections: 3 \nserver accepts handled requests\n 120 119 45678 \n' +
    'Reading: 0 Writing: 1 Waiting: 2 \n';
  assert.deepEqual(parseStubStatus(page), {
    active: 3,
    accepts: 120,
    handled: 119,
    requests: 45678,
  });
  assert.throws(() => parseStubStatus('backend-a\n'), /not an nginx stub_status page/);
});
