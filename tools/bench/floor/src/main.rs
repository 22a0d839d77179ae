//! The floor of the prescribed stack (tools/bench): a hello Yew app with two routes and a link. Its
//! `#auth-status` is there for the cold-paint benchmark, which times its first paint as it times the
//! app's first signed-in paint.
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Clone, PartialEq, Routable)]
enum Route {
    #[at("/")]
    Home,
    #[at("/about")]
    About,
}

#[function_component(App)]
fn app() -> Html {
    html! { <BrowserRouter><Switch<Route> render={switch} /></BrowserRouter> }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! {
            <main>
                <p id="auth-status" class="signed-in">{ "Hello, world." }</p>
                <Link<Route> to={Route::About}>{ "About" }</Link<Route>>
            </main>
        },
        Route::About => html! { <main><p>{ "About." }</p></main> },
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}

// The apps' allocator, so that sizes compare like for like.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
