import { bannerPlugin } from './probes/banner.ts';

export default bannerPlugin({
  kind: 'smtp',
  description: 'SMTP: reads the 220 greeting; optional EHLO + STARTTLS with certificate expiry; QUIT',
  defaultPort: 25,
  greeting: /^220[ -]/,
  lastGreetingLine: /^\d{3} /,
  async starttls(io) {
    io.send('EHLO offhook-agent');
    const capabilities = await io.expect(/^250 /, 'EHLO');
    if (!capabilities.some((line) => /^250[ -]STARTTLS\b/i.test(line)))
      throw new Error('server does not offer STARTTLS');
    io.send('STARTTLS');
    await io.expect(/^220 /, 'STARTTLS');
  },
  quit: 'QUIT',
});
