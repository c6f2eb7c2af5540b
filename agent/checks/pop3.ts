import { bannerPlugin } from './probes/banner.ts';

export default bannerPlugin({
  kind: 'pop3',
  description: 'POP3: reads the +OK greeting; optional STLS with certificate expiry; QUIT',
  defaultPort: 110,
  greeting: /^\+OK/,
  async starttls(io) {
    io.send('STLS');
    await io.expect(/^\+OK/, 'STLS');
  },
  quit: 'QUIT',
});
