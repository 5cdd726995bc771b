import Hummingbird
import NIOCore

extension Routes {
    /// `GET /logd.js`: the browser helper (``StaticFiles/logdJS``), open to every origin and
    /// without a token (it holds nothing secret), cached for five minutes.
    func addStaticRoutes(to router: Router<Context>) {
        let script = ByteBuffer(string: StaticFiles.logdJS)
        router.get("/logd.js") { _, _ -> Response in
            Response(status: .ok,
                     headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"],
                     body: .init(byteBuffer: script))
        }
    }
}
