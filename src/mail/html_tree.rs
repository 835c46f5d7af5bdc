//! The document tree html5ever builds for [`super::html_text`]: the smallest tree sink that keeps
//! what a reader sees (elements with their attributes, and text), built by the same HTML parser
//! browsers follow, so that quoted attributes, entities, comments, raw-text elements and
//! misnested tags are read the way a mail client shows them.
//!
//! The tree builder of the HTML standard looks through the stack of open elements for many
//! tags, so its work grows with the square of the nesting depth: a mail of a few hundred
//! kilobytes of nested `<div>`s would keep it busy for many minutes. Nesting deeper than
//! [`MOST_DEPTH`] is therefore not part of the tree, and the parser is given the mail in chunks
//! and stops being fed once the depth has been passed: what is nested that deep is not read, as
//! no person writes mail like that.
//!
//! html5ever's own `markup5ever_rcdom` is marked unsupported, pulls in xml5ever and turns on a
//! feature of markup5ever that would rebuild the Matrix crates sharing it; this sink is a page
//! long and cannot panic (where rcdom panics on a call the tree builder never makes, this one
//! does nothing).

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, LocalName, QualName, ns};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

pub type Handle = Rc<Node>;

/// One node of the tree. Every node carries a name so that the tree builder can ask any node's
/// name without a panic; only elements have a meaningful one.
pub struct Node {
    pub name: QualName,
    pub kind: NodeKind,
    parent: Cell<Option<Weak<Node>>>,
    /// How many ancestors the node has (the document has none).
    depth: Cell<usize>,
    pub children: RefCell<Vec<Handle>>,
}

pub enum NodeKind {
    Document,
    Element {
        attributes: RefCell<Vec<Attribute>>,
        template_contents: Option<Handle>,
    },
    Text(RefCell<String>),
    /// Comments, processing instructions and doctypes: never shown.
    Hidden,
}

impl Node {
    fn new(name: QualName, kind: NodeKind) -> Handle {
        Rc::new(Node {
            name,
            kind,
            parent: Cell::new(None),
            depth: Cell::new(0),
            children: RefCell::new(Vec::new()),
        })
    }

    fn unnamed(kind: NodeKind) -> Handle {
        Node::new(QualName::new(None, ns!(), LocalName::from("")), kind)
    }

    /// The element's lower-case local name (HTML names are lower-cased by the parser).
    pub fn local_name(&self) -> &str {
        &self.name.local
    }

    /// The value of an attribute, if the node is an element that has it.
    pub fn attribute(&self, name: &str) -> Option<String> {
        match &self.kind {
            NodeKind::Element { attributes, .. } => attributes
                .borrow()
                .iter()
                .find(|attribute| &*attribute.name.local == name)
                .map(|attribute| attribute.value.to_string()),
            _ => None,
        }
    }
}

impl Drop for Node {
    /// Children are released one level at a time instead of by recursion, so a mail with a
    /// hundred thousand nested elements cannot exhaust the stack when its tree is dropped.
    fn drop(&mut self) {
        let mut pending: Vec<Handle> = std::mem::take(self.children.get_mut());
        while let Some(node) = pending.pop() {
            if let Ok(mut node) = Rc::try_unwrap(node) {
                pending.append(node.children.get_mut());
            }
        }
    }
}

/// The deepest nesting kept in the tree; see the module's comment.
pub const MOST_DEPTH: usize = 400;

/// How much of the mail the parser is given at a time.
const CHUNK_BYTES: usize = 4096;

/// Parses a whole HTML document (a mail body) into a tree; returns its document node.
pub fn parse_html(html: &str) -> Handle {
    let mut options = html5ever::ParseOpts::default();
    // A mail client runs no scripts, so `<noscript>` content is shown: parse it as markup.
    options.tree_builder.scripting_enabled = false;
    let builder = TreeBuilder::default();
    let document = builder.document.clone();
    let too_deep = builder.too_deep.clone();
    let mut parser = html5ever::parse_document(builder, options);
    let mut rest = html;
    while !rest.is_empty() && !too_deep.get() {
        let mut end = rest.len().min(CHUNK_BYTES);
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        parser.process(StrTendril::from(&rest[..end]));
        rest = &rest[end..];
    }
    parser.finish();
    document
}

struct TreeBuilder {
    document: Handle,
    /// Set once a node was not attached for being nested deeper than [`MOST_DEPTH`].
    too_deep: Rc<Cell<bool>>,
}

impl Default for TreeBuilder {
    fn default() -> TreeBuilder {
        TreeBuilder {
            document: Node::unnamed(NodeKind::Document),
            too_deep: Rc::new(Cell::new(false)),
        }
    }
}

fn parent_of(node: &Handle) -> Option<Handle> {
    let weak = node.parent.take();
    let parent = weak.as_ref().and_then(Weak::upgrade);
    node.parent.set(weak);
    parent
}

fn detach(node: &Handle) {
    if let Some(parent) = parent_of(node) {
        parent
            .children
            .borrow_mut()
            .retain(|child| !Rc::ptr_eq(child, node));
    }
    node.parent.set(None);
}

/// Makes `child` a child of `parent` (at the end, or at `position`), unless that would nest it
/// deeper than [`MOST_DEPTH`]: then it is left out of the tree and the builder is told.
fn attach(builder: &TreeBuilder, parent: &Handle, child: Handle, position: Option<usize>) {
    detach(&child);
    let depth = parent.depth.get() + 1;
    if depth > MOST_DEPTH {
        builder.too_deep.set(true);
        return;
    }
    child.depth.set(depth);
    child.parent.set(Some(Rc::downgrade(parent)));
    let mut children = parent.children.borrow_mut();
    let position = position.unwrap_or(children.len()).min(children.len());
    children.insert(position, child);
}

/// Adds text to `node` if it is a text node; the tree builder expects adjacent text merged.
fn extend_text(node: &Handle, text: &str) -> bool {
    match &node.kind {
        NodeKind::Text(existing) => {
            existing.borrow_mut().push_str(text);
            true
        }
        _ => false,
    }
}

fn text_node(text: &str) -> Handle {
    Node::unnamed(NodeKind::Text(RefCell::new(text.to_string())))
}

impl TreeSink for TreeBuilder {
    type Handle = Handle;
    type Output = TreeBuilder;
    type ElemName<'a> = &'a QualName;

    fn finish(self) -> TreeBuilder {
        self
    }

    fn parse_error(&self, _message: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.document.clone()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> &'a QualName {
        &target.name
    }

    fn create_element(
        &self,
        name: QualName,
        attributes: Vec<Attribute>,
        flags: ElementFlags,
    ) -> Handle {
        let template_contents = flags.template.then(|| Node::unnamed(NodeKind::Document));
        Node::new(
            name,
            NodeKind::Element {
                attributes: RefCell::new(attributes),
                template_contents,
            },
        )
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        Node::unnamed(NodeKind::Hidden)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        Node::unnamed(NodeKind::Hidden)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        match child {
            NodeOrText::AppendText(text) => {
                let last = parent.children.borrow().last().cloned();
                if !last.is_some_and(|last| extend_text(&last, &text)) {
                    attach(self, parent, text_node(&text), None);
                }
            }
            NodeOrText::AppendNode(node) => attach(self, parent, node, None),
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        previous_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        if parent_of(element).is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(previous_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        match &target.kind {
            NodeKind::Element {
                template_contents: Some(contents),
                ..
            } => contents.clone(),
            _ => target.clone(),
        }
    }

    fn same_node(&self, first: &Handle, second: &Handle) -> bool {
        Rc::ptr_eq(first, second)
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, child: NodeOrText<Handle>) {
        let Some(parent) = parent_of(sibling) else {
            return;
        };
        let position = parent
            .children
            .borrow()
            .iter()
            .position(|node| Rc::ptr_eq(node, sibling));
        let Some(position) = position else {
            return;
        };
        let node = match child {
            NodeOrText::AppendText(text) => {
                let previous = position
                    .checked_sub(1)
                    .and_then(|index| parent.children.borrow().get(index).cloned());
                if previous.is_some_and(|previous| extend_text(&previous, &text)) {
                    return;
                }
                text_node(&text)
            }
            NodeOrText::AppendNode(node) => node,
        };
        detach(&node);
        // Detaching may have moved the sibling if the node came from the same parent.
        let position = parent
            .children
            .borrow()
            .iter()
            .position(|child| Rc::ptr_eq(child, sibling));
        attach(self, &parent, node, position);
    }

    fn add_attrs_if_missing(&self, target: &Handle, added: Vec<Attribute>) {
        if let NodeKind::Element { attributes, .. } = &target.kind {
            let mut attributes = attributes.borrow_mut();
            for attribute in added {
                if !attributes
                    .iter()
                    .any(|existing| existing.name == attribute.name)
                {
                    attributes.push(attribute);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        detach(target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let children = std::mem::take(&mut *node.children.borrow_mut());
        for child in children {
            child.parent.set(None);
            attach(self, new_parent, child, None);
        }
    }
}
