import { bannerPlugin } from './probes/banner.ts';

export default bannerPlugin({
  kind: 'imap',
  description: 'IMAP: reads the "* OK" greeting; optional STARTTLS with certificate expiry; LOGOUT',
  defaultPort: 143,
  greeting: /^\* (OK|PREAUTH)\b/,
  async starttls(io) {
    io.send('a1 STARTTLS');
    await io.expect(/^a1 OK\b/, 'STARTTLS');
  },
  quit: 'a2 LOGOUT',
});
