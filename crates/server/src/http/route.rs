//! Resources that know their methods: every `GET` route also serves `HEAD` (actix sends
//! no body for it), and any other method answers 405 with an `Allow` header (RFC 9110
//! 15.5.6) in the family's envelope `E`.

use std::marker::PhantomData;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::http::Method;
use actix_web::{guard, web, FromRequest, Handler, Resource, Responder, ResponseError};

use super::HttpError;

/// A resource being declared; register it with `cfg.service(...)`.
pub struct Res<E> {
    resource: Resource,
    methods: Vec<Method>,
    family: PhantomData<fn() -> E>,
}

/// A resource at `path` whose 405 is rendered by the family error `E`.
pub fn resource<E>(path: &str) -> Res<E> {
    Res {
        resource: web::resource(path),
        methods: Vec::new(),
        family: PhantomData,
    }
}

impl<E> Res<E> {
    /// A GET (and HEAD) handler. Route tables attach handlers by their documented methods;
    /// only the debug-only test hooks declare a resource by hand.
    #[cfg(debug_assertions)]
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::GET, handler)
    }

    fn on<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = if method == Method::GET {
            self.methods.push(Method::HEAD);
            web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
        } else {
            web::route().method(method.clone())
        };
        self.methods.push(method);
        self.resource = self.resource.route(route.to(handler));
        self
    }

    /// The `Allow` value: the served methods in a stable order.
    fn allow(&self) -> String {
        let order = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        order
            .iter()
            .filter(|m| self.methods.contains(m))
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<E> HttpServiceFactory for Res<E>
where
    E: From<HttpError> + ResponseError + 'static,
{
    fn register(self, config: &mut AppService) {
        let allow = HeaderValue::from_str(&self.allow()).ok();
        let resource = self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move {
                let mut response = E::from(HttpError::MethodNotAllowed).error_response();
                if let Some(allow) = allow {
                    response.headers_mut().insert(ALLOW, allow);
                }
                response
            }
        }));
        resource.register(config);
    }
}

/// What a family says about its routes in `/openapi.json` beyond the operation.
pub trait RouteMeta {
    /// Adds the family's facts to the documented operation (none by default).
    fn document(&self, _operation: &mut utoipa::openapi::path::Operation) {}
}

impl RouteMeta for () {}

/// One row of a family's route table: the handler, its OpenAPI operation (method, path and
/// document all come from the handler's `#[utoipa::path]`, so they are written once), and
/// the family's own facts about the route `M` (for Keyrock, the authorization operation of
/// an application-scoped route).
pub struct Route<E, M> {
    /// The path as documented, at the family's first mount.
    pub path: String,
    pub meta: M,
    operation: fn() -> utoipa::openapi::path::Operation,
    doc_methods: fn() -> Vec<utoipa::openapi::path::HttpMethod>,
    tags: fn() -> Vec<&'static str>,
    schemas: fn(
        &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ),
    attach: std::rc::Rc<dyn Fn(Res<E>) -> Res<E>>,
}

fn actix_method(m: &utoipa::openapi::path::HttpMethod) -> Method {
    use utoipa::openapi::path::HttpMethod as H;
    match m {
        H::Get => Method::GET,
        H::Post => Method::POST,
        H::Put => Method::PUT,
        H::Delete => Method::DELETE,
        H::Options => Method::OPTIONS,
        H::Head => Method::HEAD,
        H::Patch => Method::PATCH,
        H::Trace => Method::TRACE,
    }
}

impl<E: 'static, M> Route<E, M> {
    /// The route of `handler`, documented by its `#[utoipa::path]` type `P`. Use the
    /// [`route!`](crate::route) macro, which names `P` from the handler.
    pub fn new<P, F, Args>(handler: F, meta: M) -> Self
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let served: Vec<Method> = P::methods().iter().map(actix_method).collect();
        Route {
            path: P::path(),
            meta,
            operation: P::operation,
            doc_methods: P::methods,
            tags: P::tags,
            schemas: P::schemas,
            attach: std::rc::Rc::new(move |mut res: Res<E>| {
                for method in &served {
                    res = res.on(method.clone(), handler.clone());
                }
                res
            }),
        }
    }

    /// The OpenAPI operation of this route, with the family's facts.
    pub fn operation(&self) -> utoipa::openapi::path::Operation
    where
        M: RouteMeta,
    {
        let mut operation = (self.operation)();
        let tags = operation.tags.get_or_insert_with(Vec::new);
        for tag in (self.tags)() {
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        self.meta.document(&mut operation);
        operation
    }

    /// The documented methods (the served ones, without the implied `HEAD`).
    pub fn doc_methods(&self) -> Vec<utoipa::openapi::path::HttpMethod> {
        (self.doc_methods)()
    }

    /// Adds the schemas this route's operation refers to.
    pub fn schemas(
        &self,
        into: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        (self.schemas)(into)
    }
}

/// Registers every route of `table` at `mount` (the documented path's first segment
/// `from` replaced by `mount`), one resource per path in table order, each answering 405
/// with `Allow` in the family's envelope `E`.
pub fn register<E, M>(cfg: &mut web::ServiceConfig, table: &[Route<E, M>], from: &str, mount: &str)
where
    E: From<HttpError> + ResponseError + 'static,
{
    // A mount is a scope: the router then tests one prefix, not every route of the mount,
    // before the routes that follow it (an unmatched path under it falls to the App's 404).
    let mut resources: Vec<(String, Option<Res<E>>)> = Vec::new();
    for route in table {
        // Every request path reaches the router with its trailing slash trimmed (the App's
        // `NormalizePath`), so a documented canonical `/api/user/` is served at `/api/user`.
        let path = mounted(&route.path, from, "");
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed.to_owned(),
            _ => path,
        };
        let index = match resources.iter().position(|(p, _)| *p == path) {
            Some(i) => i,
            None => {
                resources.push((path.clone(), Some(resource::<E>(&path))));
                resources.len() - 1
            }
        };
        if let Some(res) = resources[index].1.take() {
            resources[index].1 = Some((route.attach)(res));
        }
    }
    let resources = resources.into_iter().filter_map(|(_, res)| res);
    if mount.is_empty() {
        for res in resources {
            cfg.service(res);
        }
    } else {
        let scope = resources.fold(web::scope(mount), |scope, res| scope.service(res));
        cfg.service(scope);
    }
}

/// `path` with its prefix `from` replaced by `mount` (`/v1/users` at `/v3` is `/v3/users`).
pub fn mounted(path: &str, from: &str, mount: &str) -> String {
    match path.strip_prefix(from) {
        Some(rest) => format!("{mount}{rest}"),
        None => path.to_owned(),
    }
}

/// A route-table row for a handler with a `#[utoipa::path]`: `route!(users::get)`,
/// `route!(roles::create_role, Some(Operation::ManageRoles))`, or `route!(health)` for a
/// handler of the calling module.
#[macro_export]
macro_rules! route {
    ($module:ident :: $handler:ident) => {
        $crate::route!($module::$handler, ())
    };
    ($module:ident :: $handler:ident, $meta:expr) => {
        pastey::paste! {
            $crate::http::route::Route::new::<$module :: [<__path_ $handler>], _, _>(
                $module :: $handler,
                $meta,
            )
        }
    };
    ($handler:ident) => {
        $crate::route!($handler, ())
    };
    ($handler:ident, $meta:expr) => {
        pastey::paste! {
            $crate::http::route::Route::new::<[<__path_ $handler>], _, _>($handler, $meta)
        }
    };
}
