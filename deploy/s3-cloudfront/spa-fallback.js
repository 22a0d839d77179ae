// CloudFront Function (viewer request; runtime cloudfront-js-2.0, works on 1.0 too) for oidc-renew:
// the app's routes, the silent page and the setup doctor's page, on a private S3 origin. Attach it to
// every behavior that serves the app (the default one and /silent/*).
//   /silent, /doctor -> 301 to /silent/, /doctor/ (pages of their own)
//   /silent/, /doctor/, /  -> the directory's index.html
//   /profile, /x/y   -> /index.html: a route of the app, which routes itself
//   /missing.js      -> unchanged: a file, 404 (403 from a private bucket) when it is missing
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/silent' || uri === '/doctor') {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: uri + '/' } },
    };
  }
  if (uri.charAt(uri.length - 1) === '/') {
    if (uri === '/' || uri === '/silent/' || uri === '/doctor/') {
      request.uri = uri + 'index.html';
    } else {
      request.uri = '/index.html';
    }
    return request;
  }
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1 && uri.indexOf('/silent/') !== 0 && uri.indexOf('/doctor/') !== 0) {
    request.uri = '/index.html';
  }
  return request;
}
